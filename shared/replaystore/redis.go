//go:build !jwtgate_lean

package replaystore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyPrefix namespaces jwtgate's keys in a shared Redis.
const keyPrefix = "jwtgate:dpop:"

func init() {
	// go-redis writes connection-pool messages as plain text to stderr;
	// jwtgate's logs are JSON lines, and a store failure is reported in
	// the decision's own line (reason replay_store_unavailable).
	redis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Redis is the shared store: SET key NX PX ttl, atomic on the server, so
// of two instances that see the same proof exactly one records it.
type Redis struct {
	c       *redis.Client
	timeout time.Duration
	now     func() time.Time
}

// NewRedis connects lazily to the server named by a redis:// or rediss://
// URL. timeout bounds each operation (1s when 0).
func NewRedis(spec string, timeout time.Duration, now func() time.Time) (*Redis, error) {
	if timeout <= 0 {
		timeout = time.Second
	}
	opt, err := redisOptions(spec, timeout)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Redis{c: redis.NewClient(opt), timeout: timeout, now: now}, nil
}

func redisOptions(spec string, timeout time.Duration) (*redis.Options, error) {
	opt, err := redis.ParseURL(spec)
	if err != nil {
		// go-redis errors may quote the URL, password included.
		return nil, errors.New("not a valid redis:// or rediss:// URL: " + Redact(spec))
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.MaxRetries = 1
	opt.ContextTimeoutEnabled = true
	// Lambda freezes between invocations; keep the pool small.
	opt.PoolSize = 4
	opt.MinIdleConns = 0
	// No client-side caching or RESP3 push: plain commands only.
	opt.Protocol = 2
	opt.DisableIdentity = true
	return opt, nil
}

// Remember implements Store.
func (s *Redis) Remember(ctx context.Context, key string, until time.Time) (bool, error) {
	ttl := until.Sub(s.now())
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	fresh, err := s.c.SetNX(ctx, keyPrefix+key, 1, ttl).Result()
	if err != nil {
		return false, unavailable(err)
	}
	return fresh, nil
}

// Close implements Store.
func (s *Redis) Close() error { return s.c.Close() }

// checkRedisSpec validates a redis:// or rediss:// URL without connecting.
func checkRedisSpec(spec string) error {
	_, err := redisOptions(spec, time.Second)
	return err
}
