//go:build !jwtgate_lean

package main

import (
	"log/slog"

	"github.com/jwtgate/jwtgate/shared/config"
)

// handOver does nothing in the standard build: it has everything a
// configuration can ask for, and never execs anything.
func handOver(*slog.Logger, *config.Config, error) error { return nil }
