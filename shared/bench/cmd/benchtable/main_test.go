package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
cpu: AMD EPYC
BenchmarkValidate/RS256/floor-2   	    6692	     100 ns/op	    1376 B/op	       9 allocs/op
BenchmarkValidate/RS256/floor-2   	    6692	     120 ns/op	    1376 B/op	       9 allocs/op
BenchmarkValidate/RS256/jwtgate-uncached-2   	    6692	     105 ns/op	    6000 B/op	       27 allocs/op
BenchmarkValidate/RS256/jwtgate-uncached-2   	    6692	     300 ns/op	    6000 B/op	       27 allocs/op
BenchmarkValidate/RS256/jwx-2   	    6692	     400 ns/op	    19000 B/op	       385 allocs/op
BenchmarkValidate/RS256/jwx-2   	    6692	     420 ns/op	    19000 B/op	       385 allocs/op
BenchmarkParallel/RS256/floor     	    6692	     100 ns/op	    0 B/op	       0 allocs/op
BenchmarkParallel/RS256/floor-2   	    6692	     50 ns/op	    0 B/op	       0 allocs/op
BenchmarkPaired/RS256-2         	     200	    614526 ns/op	         1.05 jwtgate/floor	         1.2 jwtgate/floor-prepared	         0.6 jwtgate/go-jose	         0.8 jwtgate/golang-jwt	         0.4 jwtgate/jwx
BenchmarkPaired/RS256-2         	     200	    614526 ns/op	         1.25 jwtgate/floor	         1.4 jwtgate/floor-prepared	         0.7 jwtgate/go-jose	         0.9 jwtgate/golang-jwt	         0.5 jwtgate/jwx
PASS
`

func TestParseGroupsRunsByNameAndProcs(t *testing.T) {
	all, failed, err := parse(strings.NewReader(sampleOutput))
	if err != nil || failed {
		t.Fatalf("parse: %v, failed %v", err, failed)
	}
	if len(all) != 6 {
		t.Fatalf("got %d series, want 6", len(all))
	}
	s := all[1]
	if s.group != "Validate" || s.alg != "RS256" || s.name != "jwtgate-uncached" || s.procs != 2 || len(s.runs) != 2 {
		t.Fatalf("series = %+v", s)
	}
	if all[3].procs != 1 || all[4].procs != 2 {
		t.Fatalf("procs = %d, %d; want 1, 2", all[3].procs, all[4].procs)
	}
	if got := s.pick("min", ns); got != 105 {
		t.Errorf("min = %v, want 105", got)
	}
	if got := s.pick("median", ns); got != 202.5 {
		t.Errorf("median = %v, want 202.5", got)
	}
}

func TestParseReportsFailure(t *testing.T) {
	_, failed, _ := parse(strings.NewReader("BenchmarkValidate/RS256/floor-2 1 5 ns/op\n--- FAIL: BenchmarkValidate/RS256/jwx\nFAIL\n"))
	if !failed {
		t.Fatal("a FAIL line was not reported")
	}
}

func TestTableShowsRatiosAndVerdict(t *testing.T) {
	all, _, _ := parse(strings.NewReader(sampleOutput))
	var buf bytes.Buffer
	writeTables(&buf, all, "min")
	out := buf.String()
	for _, want := range []string{
		"| RS256 | jwtgate-uncached | 202 ns | 105 ns | 6000 | 27 | 1.05 | 0.26 |",
		"RS256: uncached 1.05× floor (target ≤ 1.10×: met); faster than every peer",
		"| RS256 | floor | 100 ns | 0 | 50 ns | 0 | 2.00× |",
		"| RS256 | 1.15 | 1.30 | 0.45 | 0.85 | 0.65 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTableStatesTheDPoPTargets(t *testing.T) {
	const out = `BenchmarkDPoP/RS256-token/floor-2 100 100 ns/op 0 B/op 0 allocs/op
BenchmarkDPoP/RS256-token/dpop-new-token-and-proof-2 100 250 ns/op 0 B/op 0 allocs/op
BenchmarkDPoP/ES256-proof/floor-2 100 200 ns/op 0 B/op 0 allocs/op
BenchmarkDPoP/ES256-proof/dpop-repeat-token-new-proof-2 100 220 ns/op 0 B/op 0 allocs/op
`
	all, _, _ := parse(strings.NewReader(out))
	var buf bytes.Buffer
	writeTables(&buf, all, "min")
	for _, want := range []string{
		"| RS256-token | dpop-new-token-and-proof | 250 ns | 250 ns | 0 | 0 | 2.50 |",
		"DPoP new token and proof ≤ 2.2× the RS256 floor: 2.50× (missed by 14%",
		"DPoP repeat token, new proof ≈ one ES256 verify (≤ 1.3×): 1.10× (met;",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestOtherPairedBenchmarksShowTheirOwnRatios(t *testing.T) {
	in := "BenchmarkEntraCognito/RS256/entra-2 300 5 ns/op 1.01 checked/plain\n" +
		"BenchmarkEntraCognito/RS256/entra-2 300 5 ns/op 1.03 checked/plain\n" +
		"BenchmarkEntraCognito/RS256/cognito-2 300 5 ns/op 0.99 checked/plain\n"
	all, _, _ := parse(strings.NewReader(in))
	var buf bytes.Buffer
	writeTables(&buf, all, "min")
	out := buf.String()
	for _, want := range []string{"| alg | checked/plain |", "| RS256 entra | 1.02 |", "| RS256 cognito | 0.99 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "jwtgate/floor") {
		t.Errorf("a budget table got the peer columns:\n%s", out)
	}
}
