//go:build jwtgate_lean

package config

import "errors"

// ErrYAMLNotBuiltIn is the start-up error of a lean build (-tags
// jwtgate_lean) for a YAML policy file: the build leaves the YAML decoder
// out (with regexp, which it needs), and refuses such a file rather than
// guess. A JSON policy file is read as in the standard build.
var ErrYAMLNotBuiltIn = errors.New("YAML policy files are not built into this binary (built with -tags jwtgate_lean): use the standard build, or write the policy file as JSON")

// decodeYAML refuses: a lean build has no YAML decoder.
func decodeYAML([]byte, *policyFile) error { return ErrYAMLNotBuiltIn }
