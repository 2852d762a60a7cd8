package main

import (
	"context"
	"errors"
	"io"
)

// newThroughRuntime is filled in below once the binaries exist.
func newThroughRuntime(ctx context.Context, getenv func(string) string, f replayFlags, logOut, stderr io.Writer) (runner, error) {
	return nil, errors.New("--through-runtime: not implemented yet")
}
