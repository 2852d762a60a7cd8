//go:build jwtgate_lean

package replaystore

import (
	"context"
	"errors"
	"time"
)

// ErrRedisNotBuiltIn is the start-up error of a lean build (-tags
// jwtgate_lean) for a JWTGATE_REPLAY_STORE that names a Redis server: the
// build leaves go-redis out, and refuses such a configuration rather than
// fall back to the per-instance store.
var ErrRedisNotBuiltIn = errors.New("the Redis replay store is not built into this binary (built with -tags jwtgate_lean): use the standard build, or JWTGATE_REPLAY_STORE=memory")

// Redis is never built in a lean build.
type Redis struct{}

// NewRedis refuses: a lean build has no Redis client.
func NewRedis(string, time.Duration, func() time.Time) (*Redis, error) {
	return nil, ErrRedisNotBuiltIn
}

// Remember fails closed; it cannot be reached, since NewRedis refuses.
func (*Redis) Remember(context.Context, string, time.Time) (bool, error) {
	return false, unavailable(ErrRedisNotBuiltIn)
}

// Close does nothing.
func (*Redis) Close() error { return nil }

func checkRedisSpec(string) error { return ErrRedisNotBuiltIn }
