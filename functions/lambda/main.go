// Command bootstrap is jwtgate's AWS API Gateway Lambda authorizer for the
// provided.al2023 runtime. One binary answers every authorizer shape (REST
// TOKEN and REQUEST, HTTP API payload 1.0 and 2.0); see package
// functions/lambda/authorizer.
//
// Build:
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bootstrap ./functions/lambda
//
// Start-up reads the JWTGATE_* environment and warms the key cache within a
// short bound. A configuration error is logged as one JSON line naming the
// setting and the process exits with status 1, so Lambda reports the init as
// failed (Runtime.ExitError) and API Gateway answers 500: a misconfigured
// authorizer never allows anything.
//
// The lean build (-tags jwtgate_lean, the zip's bootstrap) leaves CEL,
// go-redis and the YAML policy decoder out; when the configuration needs
// one of them it execs jwtgate-full (the standard build, beside it in the
// zip) before it talks to the Lambda Runtime API: see handover_lean.go.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/jwtgate/jwtgate/functions/lambda/authorizer"
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/logging"
)

// initBound caps the whole start-up (config and key warm-up); Lambda's init
// phase allows 10 s, and the core bounds the warm-up itself more tightly.
const initBound = 5 * time.Second

func main() {
	logger, err := logging.FromEnv(os.Stdout, os.Getenv)
	if err != nil {
		logger.Error("jwtgate: configuration error", slog.String("error", err.Error()))
		os.Exit(1)
	}
	a, err := setup(logger)
	if err != nil {
		logger.Error("jwtgate: configuration error", slog.String("error", err.Error()))
		os.Exit(1)
	}
	// The Authorizer (and the core's key and token caches in it) lives for
	// the whole execution environment, across invocations.
	lambda.Start(a)
}

func setup(logger *slog.Logger) (*authorizer.Authorizer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), initBound)
	defer cancel()
	cfg, err := config.FromEnv(os.Getenv)
	// A lean bootstrap hands a configuration it cannot serve over to the
	// full build beside it (or refuses it); the standard build carries on.
	if herr := handOver(logger, cfg, err); herr != nil {
		return nil, herr
	}
	if err != nil {
		return nil, err
	}
	c, err := core.New(ctx, cfg, core.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	return authorizer.New(c, c.Config(), logger,
		authorizer.WithMetrics(os.Stdout, logging.MetricsLevel(os.Getenv))), nil
}
