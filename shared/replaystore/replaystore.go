// Package replaystore remembers DPoP proofs for as long as they are
// acceptable, so that a proof presented twice is refused (RFC 9449 §11.1).
// The memory store serves one process (one Lambda instance, one Function
// host); the Redis store is shared by all of them. A store that cannot
// answer reports an error, and the caller must then refuse the request:
// an unchecked proof is never accepted.
package replaystore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Store records proof keys.
type Store interface {
	// Remember records key until until and reports whether it was new:
	// false means the key is already recorded (a replay). An error means
	// the store could not tell; the caller refuses the request.
	Remember(ctx context.Context, key string, until time.Time) (fresh bool, err error)
	// Close releases the store's connections.
	Close() error
}

// ErrUnavailable wraps every failure to reach or use a store.
var ErrUnavailable = errors.New("replay store unavailable")

// Options configure Open.
type Options struct {
	// Timeout bounds one store operation (Redis: dial, read and write).
	Timeout time.Duration
	// MemoryEntries bounds the memory store (DefaultMemoryEntries when 0).
	MemoryEntries int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Open builds the store named by spec (JWTGATE_REPLAY_STORE): "" or
// "memory" for the per-process store, redis://[user:password@]host:port/db
// or rediss://… (TLS) for a shared Redis. The Redis connection is made
// lazily; an unreachable server shows as errors from Remember.
func Open(spec string, o Options) (Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case spec == "" || strings.EqualFold(spec, "memory"):
		return NewMemory(o.MemoryEntries, o.Now), nil
	case IsRedis(spec):
		return NewRedis(spec, o.Timeout, o.Now)
	}
	return nil, errors.New(`replay store must be "memory", redis://host:port/db or rediss://host:port/db`)
}

// CheckSpec validates a JWTGATE_REPLAY_STORE value without connecting.
func CheckSpec(spec string) error {
	if spec == "" || strings.EqualFold(spec, "memory") {
		return nil
	}
	if !IsRedis(spec) {
		return errors.New(`must be "memory", redis://host:port/db or rediss://host:port/db`)
	}
	return checkRedisSpec(spec)
}

// IsRedis reports whether spec names a Redis store (redis:// or rediss://,
// any case), which the lean build leaves out.
func IsRedis(spec string) bool {
	lower := strings.ToLower(spec)
	return strings.HasPrefix(lower, "redis://") || strings.HasPrefix(lower, "rediss://")
}

// Redact returns spec without its password, for logs and errors.
func Redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }
