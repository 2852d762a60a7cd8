package main

import "fmt"

// dpopTargets are the DPoP rows' targets (issue 14), as a ratio to the
// floor of their row's alg: a new RS256 token with a new ES256 proof at
// most 2.2× the RS256 floor; a repeat (cached) token with a new proof
// about one ES256 verify (the ES256 floor; "about" is taken as ≤ 1.3×).
var dpopTargets = map[string]struct {
	max  float64
	what string
}{
	"dpop-new-token-and-proof":    {2.2, "new token and proof ≤ 2.2× the RS256 floor"},
	"dpop-repeat-token-new-proof": {1.3, "repeat token, new proof ≈ one ES256 verify (≤ 1.3×)"},
}

// dpopNote states a DPoP row's target and whether its time met it ("" for
// other rows). On a loaded machine time ratios are noisy: `make
// bench-instr` counts instructions for the same two rows.
func dpopNote(s *series, ref map[string]*series, stat string) string {
	tg, ok := dpopTargets[s.name]
	f := ref["floor"]
	if !ok || f == nil {
		return ""
	}
	r := s.pick(stat, ns) / f.pick(stat, ns)
	verdict := "met"
	if r > tg.max {
		verdict = fmt.Sprintf("missed by %.0f%%", (r/tg.max-1)*100)
	}
	return fmt.Sprintf("DPoP %s: %.2f× (%s; time, see the instruction counts)", tg.what, r, verdict)
}
