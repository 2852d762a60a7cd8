package replaystore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/shared/replaystore/redistest"
)

type clock struct{ t atomic.Int64 }

func newClock() *clock               { c := &clock{}; c.t.Store(time.Unix(1_800_000_000, 0).UnixNano()); return c }
func (c *clock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d)) }

// behaviour runs the contract every store must keep.
func behaviour(t *testing.T, s Store, clk *clock) {
	ctx := context.Background()
	until := clk.now().Add(90 * time.Second)
	if fresh, err := s.Remember(ctx, "a", until); err != nil || !fresh {
		t.Fatalf("first proof: fresh=%v err=%v, want fresh", fresh, err)
	}
	if fresh, err := s.Remember(ctx, "a", until); err != nil || fresh {
		t.Fatalf("same proof again: fresh=%v err=%v, want a replay", fresh, err)
	}
	if fresh, err := s.Remember(ctx, "b", until); err != nil || !fresh {
		t.Fatalf("another proof: fresh=%v err=%v, want fresh", fresh, err)
	}
	// Concurrent presentations of one proof: exactly one is fresh.
	var wg sync.WaitGroup
	var freshCount atomic.Int32
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f, err := s.Remember(ctx, "c", until); err == nil && f {
				freshCount.Add(1)
			}
		}()
	}
	wg.Wait()
	if freshCount.Load() != 1 {
		t.Fatalf("%d of 16 concurrent presentations were fresh, want 1", freshCount.Load())
	}
}

func TestMemoryStore(t *testing.T) {
	clk := newClock()
	behaviour(t, NewMemory(100, clk.now), clk)
}

func TestMemoryStoreForgetsExpiredProofs(t *testing.T) {
	clk := newClock()
	s := NewMemory(100, clk.now)
	ctx := context.Background()
	if f, _ := s.Remember(ctx, "a", clk.now().Add(time.Minute)); !f {
		t.Fatal("first proof not fresh")
	}
	clk.add(time.Minute)
	if f, err := s.Remember(ctx, "a", clk.now().Add(time.Minute)); err != nil || !f {
		t.Fatalf("proof past its window: fresh=%v err=%v, want fresh (it can no longer be accepted anyway)", f, err)
	}
}

func TestMemoryStoreFullRefusesInsteadOfEvicting(t *testing.T) {
	clk := newClock()
	s := NewMemory(3, clk.now)
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c"} {
		if f, err := s.Remember(ctx, k, clk.now().Add(time.Minute)); err != nil || !f {
			t.Fatalf("%s: fresh=%v err=%v", k, f, err)
		}
	}
	f, err := s.Remember(ctx, "d", clk.now().Add(time.Minute))
	if f || !errors.Is(err, ErrFull) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("full store: fresh=%v err=%v, want ErrFull (unavailable)", f, err)
	}
	if f, _ := s.Remember(ctx, "a", clk.now().Add(time.Minute)); f {
		t.Fatal("a full store forgot a live proof")
	}
	clk.add(2 * time.Minute)
	if f, err := s.Remember(ctx, "d", clk.now().Add(time.Minute)); err != nil || !f {
		t.Fatalf("after expiry: fresh=%v err=%v, want room again", f, err)
	}
	if s.Len() != 1 {
		t.Fatalf("store holds %d entries after the sweep, want 1", s.Len())
	}
}

func TestOpenAndCheckSpec(t *testing.T) {
	for _, spec := range []string{"", "memory", "MEMORY", "redis://127.0.0.1:6379/0", "rediss://user:pw@cache.example.com:6380/1"} {
		if err := CheckSpec(spec); err != nil {
			t.Errorf("CheckSpec(%q): %v", spec, err)
		}
	}
	for _, spec := range []string{"memcached://x", "redis://h:1/notanumber", "file:///tmp/x"} {
		if err := CheckSpec(spec); err == nil {
			t.Errorf("CheckSpec(%q) accepted", spec)
		}
	}
	err := CheckSpec("redis://u:s3cret@h:1/x")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %v must exist and not quote the password", err)
	}
	s, err := Open("memory", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Memory); !ok {
		t.Fatalf("Open(memory) = %T", s)
	}
}

func TestRedisStore(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	s, err := Open(srv.URL(0), Options{Timeout: 2 * time.Second, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	behaviour(t, s, clk)
}

// TestRedisStoreSharedAndFailsClosed: two stores on one server see each
// other's proofs; with the server down every call errors (never "fresh"),
// and the stores recover when it returns.
func TestRedisStoreSharedAndFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	a, err := NewRedis(srv.URL(1), 2*time.Second, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewRedis(srv.URL(1), 2*time.Second, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	until := clk.now().Add(time.Minute)
	if f, err := a.Remember(ctx, "p1", until); err != nil || !f {
		t.Fatalf("first instance: fresh=%v err=%v", f, err)
	}
	if f, err := b.Remember(ctx, "p1", until); err != nil || f {
		t.Fatalf("second instance: fresh=%v err=%v, want a replay", f, err)
	}
	srv.Stop()
	for _, s := range []*Redis{a, b} {
		f, err := s.Remember(ctx, "p2", until)
		if f || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("server down: fresh=%v err=%v, want ErrUnavailable", f, err)
		}
	}
	srv.Restart()
	if f, err := a.Remember(ctx, "p2", until); err != nil || !f {
		t.Fatalf("server back: fresh=%v err=%v, want fresh", f, err)
	}
	if f, err := b.Remember(ctx, "p2", until); err != nil || f {
		t.Fatalf("server back, second instance: fresh=%v err=%v, want a replay", f, err)
	}
}

// TestRedisStoreOverTLSVerifiesTheServer: rediss:// is TLS with the
// server's certificate verified (this server's CA is not in the system
// roots, so every call fails closed), and redis:// does not talk to a
// TLS-only port.
func TestRedisStoreOverTLSVerifiesTheServer(t *testing.T) {
	srv := redistest.StartTLS(t)
	plain := "redis://" + srv.Addr() + "/0"
	for _, spec := range []string{srv.URL(0), plain} {
		s, err := Open(spec, Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.Remember(context.Background(), "p1", time.Now().Add(time.Minute))
		if f || !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: fresh=%v err=%v, want ErrUnavailable", spec, f, err)
		}
		s.Close()
	}
}
