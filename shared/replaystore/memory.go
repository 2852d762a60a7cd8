package replaystore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultMemoryEntries bounds the memory store. A proof is remembered for
// JWTGATE_DPOP_MAX_AGE plus the clock skew (90 s by default), so this
// holds more than 2,000 proofs a second for one process.
const DefaultMemoryEntries = 200_000

// ErrFull: the memory store holds its maximum of unexpired proofs. Evicting
// one would let it be replayed, so the request is refused instead.
var ErrFull = errors.New("replay store full")

// Memory is the per-process store: a map of keys to their expiry, bounded.
type Memory struct {
	now func() time.Time
	max int
	mu  sync.Mutex // guards m and nextSweep
	m   map[string]int64
	// nextSweep is when expired entries are next dropped (at the latest).
	nextSweep int64
}

// NewMemory returns a memory store of at most max entries.
func NewMemory(max int, now func() time.Time) *Memory {
	if max <= 0 {
		max = DefaultMemoryEntries
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, max: max, m: make(map[string]int64)}
}

// Remember implements Store.
func (s *Memory) Remember(_ context.Context, key string, until time.Time) (bool, error) {
	now := s.now().UnixNano()
	exp := until.UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok && e > now {
		return false, nil
	}
	if len(s.m) >= s.max || now >= s.nextSweep {
		s.sweep(now)
	}
	if len(s.m) >= s.max {
		return false, unavailable(ErrFull)
	}
	s.m[key] = exp
	return true, nil
}

// sweep drops expired entries; it runs at most once a second unless the
// store is full.
func (s *Memory) sweep(now int64) {
	for k, e := range s.m {
		if e <= now {
			delete(s.m, k)
		}
	}
	s.nextSweep = now + int64(time.Second)
}

// Len is the number of entries held (expired ones included until swept).
func (s *Memory) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Close implements Store.
func (s *Memory) Close() error { return nil }
