package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/core"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// lambdaResult is what replay needs from the Lambda authorizer library.
type lambdaResult struct {
	Shape    string
	Decision decision.Decision
	Status   int
	Err      error
}

type lambdaAdapter interface {
	Evaluate(ctx context.Context, raw []byte) lambdaResult
}

// TODO: wire functions/lambda/authorizer once its Authorizer lands.
type pendingLambda struct{}

func newLambdaAdapter(d core.Decider, cfg *config.Config, logger *slog.Logger) (lambdaAdapter, error) {
	return pendingLambda{}, nil
}

func (pendingLambda) Evaluate(ctx context.Context, raw []byte) lambdaResult {
	return lambdaResult{Shape: "lambda", Err: errors.New("lambda adapter library not available yet")}
}
