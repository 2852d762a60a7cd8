package hardening

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadToken is one kind of request the load loop sends: Token goes in
// "Authorization: Bearer"; an empty Token sends no Authorization header.
type LoadToken struct {
	Class string
	Token string
}

// LoadConfig bounds a load run. Both MaxRequests and Duration must be set:
// the run stops at whichever comes first.
type LoadConfig struct {
	// URL is the target; only http://127.0.0.1 (or [::1]/localhost) is
	// accepted.
	URL         string
	Tokens      []LoadToken // sent round-robin
	Workers     int
	MaxRequests int64
	Duration    time.Duration
	// Check, when set, inspects every answer; an error is counted and the
	// first few are kept in LoadResult.Failures.
	Check func(class string, status int, header http.Header, body []byte) error
}

// LoadResult counts what the run saw.
type LoadResult struct {
	Requests        int64
	Elapsed         time.Duration
	TransportErrors int64
	// ByClass counts statuses per token class.
	ByClass map[string]map[int]int64
	// CheckErrors counts answers Check refused.
	CheckErrors int64
	// Failures holds up to 10 transport or check errors.
	Failures []string
}

// Status5xx counts answers with a 5xx status other than want (e.g. 503 for
// a designed unavailable answer; 0 counts every 5xx).
func (r *LoadResult) Status5xx(except int) int64 {
	var n int64
	for _, m := range r.ByClass {
		for st, c := range m {
			if st >= 500 && st != except {
				n += c
			}
		}
	}
	return n
}

// String is a one-line summary.
func (r *LoadResult) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d requests in %s (%.0f/s), %d transport errors, %d check errors;", r.Requests, r.Elapsed.Round(time.Millisecond),
		float64(r.Requests)/max(r.Elapsed.Seconds(), 1e-9), r.TransportErrors, r.CheckErrors)
	for _, class := range sortedStrings(r.ByClass) {
		fmt.Fprintf(&sb, " %s=%v", class, r.ByClass[class])
	}
	return sb.String()
}

func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// checkLoopback refuses any target that is not a loopback address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" {
		return errors.New("hardening: load target must be http on loopback")
	}
	h := u.Hostname()
	if h == "localhost" {
		return nil
	}
	if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("hardening: load target %q is not a loopback address", h)
	}
	return nil
}

// RunLoad sends GET requests to cfg.URL from cfg.Workers goroutines until
// MaxRequests have been sent, Duration has passed or ctx ends.
func RunLoad(ctx context.Context, cfg LoadConfig) (*LoadResult, error) {
	if err := checkLoopback(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Workers <= 0 || cfg.MaxRequests <= 0 || cfg.Duration <= 0 || len(cfg.Tokens) == 0 {
		return nil, errors.New("hardening: load needs workers, tokens, a request bound and a duration bound")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConns: cfg.Workers, MaxIdleConnsPerHost: cfg.Workers, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	res := &LoadResult{ByClass: map[string]map[int]int64{}}
	var (
		mu      sync.Mutex // guards res.ByClass, res.Failures
		next    atomic.Int64
		wg      sync.WaitGroup
		started = time.Now()
	)
	fail := func(s string) {
		mu.Lock()
		if len(res.Failures) < 10 {
			res.Failures = append(res.Failures, s)
		}
		mu.Unlock()
	}
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]map[int]int64{}
			defer func() {
				mu.Lock()
				for c, m := range local {
					if res.ByClass[c] == nil {
						res.ByClass[c] = map[int]int64{}
					}
					for st, n := range m {
						res.ByClass[c][st] += n
					}
				}
				mu.Unlock()
			}()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > cfg.MaxRequests {
					return
				}
				lt := cfg.Tokens[int(i)%len(cfg.Tokens)]
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL, nil)
				if err != nil {
					fail(err.Error())
					return
				}
				if lt.Token != "" {
					req.Header.Set("Authorization", "Bearer "+lt.Token)
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return // the run ended mid-request
					}
					atomic.AddInt64(&res.TransportErrors, 1)
					fail(err.Error())
					continue
				}
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				atomic.AddInt64(&res.Requests, 1)
				if local[lt.Class] == nil {
					local[lt.Class] = map[int]int64{}
				}
				local[lt.Class][resp.StatusCode]++
				if cfg.Check != nil {
					if err := cfg.Check(lt.Class, resp.StatusCode, resp.Header, body); err != nil {
						atomic.AddInt64(&res.CheckErrors, 1)
						fail(lt.Class + ": " + err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(started)
	return res, nil
}

// RSS returns the resident set size of process pid in bytes, from
// /proc/PID/status (VmRSS). It fails where /proc is not available.
func RSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) != 2 || fields[1] != "kB" {
				return 0, fmt.Errorf("hardening: unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("hardening: no VmRSS in /proc status")
}
