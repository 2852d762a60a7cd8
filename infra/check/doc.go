// Package check holds the offline checks of jwtgate's deployment files: the
// SAM template (parsed with goformation and, key by key, as raw YAML), the
// Bicep file, the packaged zips, the list of JWTGATE_ settings, and the
// documentation (README.md and docs/*.md: links, the settings and
// reason-code tables, every example; see docs/development.md). It lives
// in its own Go module so that goformation never reaches the product's
// go.mod or binaries.
package check
