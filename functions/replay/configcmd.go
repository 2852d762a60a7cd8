package main

import (
	"context"
	"io"
)

func cmdConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int { return exitSetup }
