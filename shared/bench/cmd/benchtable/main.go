// Command benchtable reads `go test -bench -benchmem` output of the bench
// module on stdin and prints one Markdown table: for each algorithm and
// case, ns/op, B/op, allocs/op, the ratio to the algorithm's signature floor
// and the ratio to each peer library. With -count > 1, each cell is the
// median (ns/op also shows the minimum); ratios use -stat (default min: on a
// shared, loaded machine noise only ever adds time). Parallel benchmarks run
// with several -cpu values become a scaling table.
//
//	go test -run '^$' -bench . -benchmem -count 3 | go run ./cmd/benchtable
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// peers are the library cases every row is compared with, in column order.
var peers = []string{"jwx", "golang-jwt", "go-jose"}

// sample is one benchmark result line.
type sample struct {
	ns, bytes, allocs float64
	metrics           map[string]float64 // b.ReportMetric units, e.g. "jwtgate/floor"
}

// series is every run of one benchmark (same name and GOMAXPROCS).
type series struct {
	group, alg, name string
	procs            int
	runs             []sample
}

func main() {
	stat := flag.String("stat", "min", "statistic the ratios use: min or median")
	tee := flag.String("tee", "", "also copy the raw input to this file")
	flag.Parse()
	if *stat != "min" && *stat != "median" {
		fmt.Fprintln(os.Stderr, "benchtable: -stat must be min or median")
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if *tee != "" {
		f, err := os.Create(*tee)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = io.TeeReader(os.Stdin, f)
	}
	all, failed, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(all) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(1)
	}
	fmt.Print(machine())
	writeTables(os.Stdout, all, *stat)
	if failed {
		fmt.Fprintln(os.Stderr, "benchtable: the benchmark run reported FAIL")
		os.Exit(1)
	}
}

// parse reads benchmark lines ("BenchmarkX/Y/Z-2  N  123 ns/op  4 B/op  1
// allocs/op"), keeping first-appearance order.
func parse(r io.Reader) ([]*series, bool, error) {
	var out []*series
	index := map[string]*series{}
	failed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL") || strings.HasPrefix(line, "panic:") {
			failed = true
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name, procs := splitProcs(f[0])
		var s sample
		ok := false
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns, ok = v, true
			case "B/op":
				s.bytes = v
			case "allocs/op":
				s.allocs = v
			default:
				if s.metrics == nil {
					s.metrics = map[string]float64{}
				}
				s.metrics[f[i+1]] = v
			}
		}
		if !ok {
			continue
		}
		key := name + "@" + strconv.Itoa(procs)
		se := index[key]
		if se == nil {
			parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
			se = &series{procs: procs, group: parts[0]}
			if len(parts) >= 3 {
				se.alg, se.name = parts[1], strings.Join(parts[2:], "/")
			} else if len(parts) == 2 {
				se.alg = parts[1]
			}
			index[key] = se
			out = append(out, se)
		}
		se.runs = append(se.runs, s)
	}
	return out, failed, sc.Err()
}

// splitProcs splits "BenchmarkX/Y-2" into ("BenchmarkX/Y", 2).
func splitProcs(s string) (string, int) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return s, 1
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return s, 1
	}
	return s[:i], n
}

func (s *series) pick(stat string, field func(sample) float64) float64 {
	v := make([]float64, len(s.runs))
	for i, r := range s.runs {
		v[i] = field(r)
	}
	sort.Float64s(v)
	if stat == "min" {
		return v[0]
	}
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func ns(s sample) float64      { return s.ns }
func bytesOp(s sample) float64 { return s.bytes }
func allocs(s sample) float64  { return s.allocs }

func writeTables(w io.Writer, all []*series, stat string) {
	var groups []string
	for _, s := range all {
		if !slices.Contains(groups, s.group) {
			groups = append(groups, s.group)
		}
	}
	for _, g := range groups {
		var in []*series
		procs := map[int]bool{}
		for _, s := range all {
			if s.group == g {
				in = append(in, s)
				procs[s.procs] = true
			}
		}
		if len(in[0].runs[0].metrics) > 0 {
			writePaired(w, g, in)
		} else if len(procs) > 1 {
			writeScaling(w, g, in, stat)
		} else {
			writeComparison(w, g, in, stat)
		}
	}
}

// writeComparison prints one row per case with ratios to the floor and to
// each peer of the same algorithm.
func writeComparison(w io.Writer, group string, in []*series, stat string) {
	fmt.Fprintf(w, "\n### %s (GOMAXPROCS=%d, %d run(s) each; ratios of the %s ns/op)\n\n", group, in[0].procs, len(in[0].runs), stat)
	fmt.Fprint(w, "| alg | case | ns/op (median) | ns/op (min) | B/op | allocs/op | × floor |")
	for _, p := range peers {
		fmt.Fprintf(w, " × %s |", p)
	}
	fmt.Fprint(w, "\n|---|---|--:|--:|--:|--:|--:|")
	for range peers {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	byAlg := map[string]map[string]*series{}
	for _, s := range in {
		if byAlg[s.alg] == nil {
			byAlg[s.alg] = map[string]*series{}
		}
		byAlg[s.alg][s.name] = s
	}
	var notes []string
	for _, s := range in {
		ref := byAlg[s.alg]
		v := s.pick(stat, ns)
		ratio := func(other string) string {
			o := ref[other]
			if o == nil || o == s {
				return "—"
			}
			return fmt.Sprintf("%.2f", v/o.pick(stat, ns))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f | %.0f | %s |", s.alg, s.name,
			human(s.pick("median", ns)), human(s.pick("min", ns)), s.pick("median", bytesOp), s.pick("median", allocs), ratio("floor"))
		for _, p := range peers {
			fmt.Fprintf(w, " %s |", ratio(p))
		}
		fmt.Fprintln(w)
		if s.name == "jwtgate-uncached" {
			notes = append(notes, verdict(s, ref, stat))
		}
		if c := ref["jwtgate-cached"]; c != nil && strings.HasPrefix(s.name, "rule-") {
			// A CEL rule's cost: the difference to the cached decision
			// without a rule (target ≤ 2 µs).
			add := v - c.pick(stat, ns)
			state := "met"
			if add > 2000 {
				state = "missed"
			}
			notes = append(notes, fmt.Sprintf("%s %s adds %s to a cached decision (%s ns/op; target ≤ 2 µs: %s)", s.alg, s.name, human(add), stat, state))
		}
		if n := dpopNote(s, ref, stat); n != "" {
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
}

// verdict states the uncached targets: ≤ 1.10× the floor, faster than
// every peer.
func verdict(s *series, ref map[string]*series, stat string) string {
	v := s.pick(stat, ns)
	var parts []string
	if f := ref["floor"]; f != nil {
		r := v / f.pick(stat, ns)
		if r <= 1.10 {
			parts = append(parts, fmt.Sprintf("uncached %.2f× floor (target ≤ 1.10×: met)", r))
		} else {
			parts = append(parts, fmt.Sprintf("uncached %.2f× floor (target ≤ 1.10×: missed by %.0f%%)", r, (r/1.10-1)*100))
		}
	}
	var slower []string
	for _, p := range peers {
		if o := ref[p]; o != nil && v >= o.pick(stat, ns) {
			slower = append(slower, p)
		}
	}
	if len(slower) == 0 {
		parts = append(parts, "faster than every peer")
	} else {
		parts = append(parts, "not faster than "+strings.Join(slower, ", "))
	}
	return s.alg + ": " + strings.Join(parts, "; ")
}

// writePaired prints the ratios a paired benchmark reported (median of
// the runs), one row per algorithm.
func writePaired(w io.Writer, group string, in []*series) {
	cols := []string{"jwtgate/floor", "jwtgate/floor-prepared"}
	for _, p := range peers {
		cols = append(cols, "jwtgate/"+p)
	}
	title := "jwtgate (uncached) time ÷ each"
	if _, ok := in[0].runs[0].metrics[cols[0]]; !ok {
		// Another paired benchmark (a budget): its own ratios as columns.
		cols = slices.Sorted(maps.Keys(in[0].runs[0].metrics))
		title = "time ratios"
	}
	fmt.Fprintf(w, "\n### %s: %s, measured in the same iterations (median of %d run(s))\n\n| alg |", group, title, len(in[0].runs))
	for _, c := range cols {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprint(w, "\n|---|")
	for range cols {
		fmt.Fprint(w, "--:|")
	}
	fmt.Fprintln(w)
	for _, s := range in {
		if s.name != "" {
			fmt.Fprintf(w, "| %s %s |", s.alg, s.name)
		} else {
			fmt.Fprintf(w, "| %s |", s.alg)
		}
		for _, c := range cols {
			if _, ok := s.runs[0].metrics[c]; !ok {
				fmt.Fprint(w, " — |")
				continue
			}
			fmt.Fprintf(w, " %.2f |", s.pick("median", func(x sample) float64 { return x.metrics[c] }))
		}
		fmt.Fprintln(w)
	}
}

// writeScaling prints, for each case, ns/op at each GOMAXPROCS and the
// speed-up from the fewest to the most procs.
func writeScaling(w io.Writer, group string, in []*series, stat string) {
	var procs []int
	type key struct{ alg, name string }
	var keys []key
	cell := map[key]map[int]*series{}
	for _, s := range in {
		if !slices.Contains(procs, s.procs) {
			procs = append(procs, s.procs)
		}
		k := key{s.alg, s.name}
		if cell[k] == nil {
			cell[k] = map[int]*series{}
			keys = append(keys, k)
		}
		cell[k][s.procs] = s
	}
	sort.Ints(procs)
	fmt.Fprintf(w, "\n### %s: -cpu scaling (%s ns/op per operation, all goroutines together)\n\n| alg | case |", group, stat)
	for _, p := range procs {
		fmt.Fprintf(w, " cpu=%d ns/op | allocs/op |", p)
	}
	fmt.Fprintf(w, " speed-up %d→%d |\n|---|---|", procs[0], procs[len(procs)-1])
	for range procs {
		fmt.Fprint(w, "--:|--:|")
	}
	fmt.Fprintln(w, "--:|")
	for _, k := range keys {
		fmt.Fprintf(w, "| %s | %s |", k.alg, k.name)
		for _, p := range procs {
			if s := cell[k][p]; s != nil {
				fmt.Fprintf(w, " %s | %.0f |", human(s.pick(stat, ns)), s.pick("median", allocs))
			} else {
				fmt.Fprint(w, " — | — |")
			}
		}
		lo, hi := cell[k][procs[0]], cell[k][procs[len(procs)-1]]
		if lo != nil && hi != nil {
			fmt.Fprintf(w, " %.2f× |\n", lo.pick(stat, ns)/hi.pick(stat, ns))
		} else {
			fmt.Fprintln(w, " — |")
		}
	}
}

// human formats nanoseconds with a unit.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f µs", v/1e3)
	default:
		return fmt.Sprintf("%.0f ns", v)
	}
}

// machine describes where the numbers were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = fmt.Sprintf(", load average %s %s %s", f[0], f[1], f[2])
		}
	}
	gov := runtime.Version()
	if out, err := exec.Command("go", "version").Output(); err == nil {
		gov = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("Machine: %d CPUs (nproc), %s, %s/%s, %s%s\n", runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, gov, load)
}
