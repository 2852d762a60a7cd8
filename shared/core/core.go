// Package core wires configuration, the key source and the validator into
// the one object every adapter uses: build it once per process (package
// scope in Lambda, main in the Azure handler) and call Decide per request.
package core

import (
	"context"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/decision"
)

// Decider is what adapters need from the core. Tests of an adapter may
// substitute a fake.
type Decider interface {
	Decide(ctx context.Context, r *decision.Request) decision.Decision
}

// Core is the process-wide validation core.
type Core struct {
	cfg *config.Config
}

// Config returns the configuration the core was built from.
func (c *Core) Config() *config.Config { return c.cfg }

// Decide validates the request's token and returns the decision. It never
// panics and never allows on an error.
func (c *Core) Decide(ctx context.Context, r *decision.Request) decision.Decision {
	return decision.Decision{Outcome: decision.Unavailable, Reason: decision.InternalError, Detail: "core not implemented yet"}
}
