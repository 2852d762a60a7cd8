//go:build jwtgate_lean

package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/replaystore"
)

// fullName is the standard build's file name beside the lean bootstrap in
// the zip of `make package` (without LEAN=1).
const fullName = "jwtgate-full"

// handOver runs in the lean bootstrap (-tags jwtgate_lean) once the
// configuration is read and before anything else (no key fetch, no call to
// the Lambda Runtime API). When the configuration needs what the lean build
// leaves out (a CEL rule, a Redis replay store, a YAML policy file), it
// replaces this process with jwtgate-full beside the executable, with the
// same arguments and environment, after one log line saying why; it only
// returns if it cannot (no such file, or exec failed), with an error naming
// the setting. Otherwise it returns nil and the lean build carries on.
func handOver(logger *slog.Logger, cfg *config.Config, cfgErr error) error {
	setting, needs := leanGap(cfg, cfgErr)
	if setting == "" {
		return nil
	}
	full, err := fullBeside()
	if err != nil {
		return &config.Error{Setting: setting, Msg: fmt.Sprintf("%s are not built into this lean bootstrap (built with -tags jwtgate_lean) and it cannot hand over to the full build: %v; package with `make package` (without LEAN=1), which puts %s beside bootstrap, or remove the setting", needs, err, fullName)}
	}
	logger.Info("jwtgate: the lean bootstrap hands over to the full build",
		slog.String("setting", setting), slog.String("needs", needs), slog.String("exec", full))
	err = syscall.Exec(full, os.Args, os.Environ())
	// Only reached if the exec failed: fail closed, naming the setting.
	return &config.Error{Setting: setting, Msg: fmt.Sprintf("%s need the full build, and exec %s failed: %v", needs, full, err)}
}

// leanGap names the first setting the lean build cannot serve and what it
// needs, or "" when the lean build serves the configuration. These are
// exactly the cases where a lean build refuses to start: rules.Compile for
// any rule, replaystore.NewRedis for a redis:// or rediss:// store, and
// config's YAML decoder.
func leanGap(cfg *config.Config, cfgErr error) (setting, needs string) {
	if cfgErr != nil {
		if errors.Is(cfgErr, config.ErrYAMLNotBuiltIn) {
			return "JWTGATE_POLICY_FILE", "YAML policy files"
		}
		return "", ""
	}
	if cfg.HasRules() {
		if cfg.Rule != "" {
			return "JWTGATE_RULE", "CEL rules"
		}
		for i, r := range cfg.Routes {
			if r.When != "" {
				return fmt.Sprintf("routes[%d].when", i), "CEL rules"
			}
		}
		return "JWTGATE_RULE", "CEL rules"
	}
	if replaystore.IsRedis(cfg.ReplayStore) {
		return "JWTGATE_REPLAY_STORE", "Redis replay stores"
	}
	return "", ""
}

// fullBeside is jwtgate-full's path beside this executable, if it is a
// regular file other than this executable (a lean build under that name
// would otherwise exec itself for ever).
func fullBeside() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot locate this executable: %v", err)
	}
	full := filepath.Join(filepath.Dir(self), fullName)
	fi, err := os.Stat(full)
	if err != nil {
		return "", fmt.Errorf("no %s beside %s", fullName, self)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file", full)
	}
	if si, err := os.Stat(self); err == nil && os.SameFile(si, fi) {
		return "", fmt.Errorf("%s is this lean bootstrap itself", full)
	}
	return full, nil
}
