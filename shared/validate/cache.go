package validate

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/shared/jsonstrict"
	"github.com/jwtgate/jwtgate/shared/keys"
	"github.com/jwtgate/jwtgate/shared/rules"
)

// verified is what the validator remembers of a token whose signature and
// registered claims checked out. It is read-only once stored.
type verified struct {
	tok     string // the whole token: a hash hit is confirmed by equality
	claims  jsonstrict.Object
	reg     registered
	key     *keys.Key
	expires time.Time // never after exp
	forward []string  // the configured claims to forward besides the usual ones
	fwdOnce sync.Once
	fwd     map[string]any // built by ForwardedClaims, on first use
	cnf     confirmation   // the token's cnf claim, read once
	rules   *rules.Token   // the claims and header as rules read them (nil: no rules)
}

const cacheShards = 32

// tokenCache is a bounded cache of verified tokens, sharded so that no one
// lock serialises all requests. A full shard evicts an arbitrary entry
// (Go's map iteration order is random), which bounds memory without the
// bookkeeping of an LRU list on the hot path.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]shard
}

// shard counts its own hits and misses, so concurrent requests for
// different tokens do not contend on one shared counter.
type shard struct {
	mu     sync.RWMutex // guards m
	m      map[uint64]*verified
	hits   atomic.Int64
	misses atomic.Int64
	_      [64]byte // keep neighbouring shards off this cache line
}

// stats sums the per-shard counters.
func (c *tokenCache) stats() (hits, misses int64) {
	for i := range c.shards {
		hits += c.shards[i].hits.Load()
		misses += c.shards[i].misses.Load()
	}
	return hits, misses
}

func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: (size + cacheShards - 1) / cacheShards}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*verified)
	}
	return c
}

func (c *tokenCache) get(tok string, now time.Time) *verified {
	h := maphash.String(c.seed, tok)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	v := s.m[h]
	s.mu.RUnlock()
	if v == nil || v.tok != tok {
		s.misses.Add(1)
		return nil
	}
	if !now.Before(v.expires) {
		s.mu.Lock()
		if s.m[h] == v {
			delete(s.m, h)
		}
		s.mu.Unlock()
		s.misses.Add(1)
		return nil
	}
	s.hits.Add(1)
	return v
}

func (c *tokenCache) put(v *verified) {
	h := maphash.String(c.seed, v.tok)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	if _, exists := s.m[h]; !exists && len(s.m) >= c.perShard {
		for k := range s.m {
			delete(s.m, k)
			break
		}
	}
	s.m[h] = v
	s.mu.Unlock()
}

// drop removes an entry whose key has left the key set.
func (c *tokenCache) drop(tok string) {
	h := maphash.String(c.seed, tok)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	if v := s.m[h]; v != nil && v.tok == tok {
		delete(s.m, h)
	}
	s.mu.Unlock()
}
