package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// TestDocsExamplesRun runs every command of every ```console block of
// README.md and docs/*.md against freshly generated sample events (a dev
// issuer on a free port stands in for 127.0.0.1:8917), and checks that
// each output line the page shows appears in the real output, in order
// ("…" stands for lines left out).
func TestDocsExamplesRun(t *testing.T) {
	root := localruntest.Root(t)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"))
	n := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks := consoleBlocks(string(text))
		n += len(blocks)
		for i, b := range blocks {
			t.Run(fmt.Sprintf("%s#%d", filepath.Base(page), i+1), func(t *testing.T) {
				runConsoleBlock(t, b)
			})
		}
	}
	if n < 3 {
		t.Fatalf("found %d console examples; troubleshooting.md and configuration.md have 3", n)
	}
}

// consoleBlocks returns the bodies of the ```console fences of a page.
func consoleBlocks(md string) []string {
	var out []string
	var cur []string
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case !in && strings.TrimSpace(l) == "```console":
			in, cur = true, nil
		case in && strings.TrimSpace(l) == "```":
			in = false
			out = append(out, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, l)
		}
	}
	return out
}

var (
	reAssign = regexp.MustCompile(`^([A-Z_]+)=\$\(go run \./functions/replay (.*)\)$`)
	rePipe   = regexp.MustCompile(`^echo "([^"]*)" \| go run \./functions/replay (.*)$`)
	reBytes  = regexp.MustCompile(`\d+ bytes \(limit`)
)

// runConsoleBlock runs the "$ " commands of one block and compares outputs.
func runConsoleBlock(t *testing.T, block string) {
	dir, addr := sampleDir(t)
	vars := map[string]string{}
	lines := strings.Split(block, "\n")
	for i := 0; i < len(lines); i++ {
		cmd, ok := strings.CutPrefix(lines[i], "$ ")
		if !ok {
			t.Fatalf("output line %q before any command", lines[i])
		}
		var want []string
		for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") {
			i++
			want = append(want, lines[i])
		}
		var stdin, assign string
		var args []string
		switch {
		case reAssign.MatchString(cmd):
			m := reAssign.FindStringSubmatch(cmd)
			assign, args = m[1], shellWords(t, m[2], vars)
		case rePipe.MatchString(cmd):
			m := rePipe.FindStringSubmatch(cmd)
			stdin, args = expandVars(m[1], vars), shellWords(t, m[2], vars)
		default:
			rest, ok := strings.CutPrefix(cmd, "go run ./functions/replay ")
			if !ok {
				t.Fatalf("unsupported command %q", cmd)
			}
			args = shellWords(t, rest, vars)
		}
		args = localArgs(t, args, dir, addr)
		var stdout, stderr bytes.Buffer
		var code int
		if args[0] == "explain" {
			code = cmdExplain(context.Background(), args[1:], strings.NewReader(stdin), &stdout, &stderr)
		} else {
			code = run(context.Background(), args, &stdout, &stderr)
		}
		if code == exitSetup {
			t.Fatalf("%s: exit %d: %s", cmd, code, stderr.String())
		}
		if assign != "" {
			vars[assign] = strings.TrimSpace(stdout.String())
			continue
		}
		got := strings.ReplaceAll(stdout.String(), dir, "events")
		got = strings.ReplaceAll(got, addr, "127.0.0.1:8917")
		if missing := missingLines(got, want); missing != "" {
			t.Fatalf("%s: the page shows %q, which the output lacks (in that order):\n%s", cmd, missing, got)
		}
	}
}

// localArgs points a documented command at the generated events and the
// dev issuer on its free port.
func localArgs(t *testing.T, args []string, dir, addr string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if rest, ok := strings.CutPrefix(a, "events/"); ok {
			out[i] = filepath.Join(dir, rest)
		}
	}
	sub := out[0]
	hasConfig := false
	for _, a := range out {
		hasConfig = hasConfig || a == "--env-file" || a == "--own-config"
	}
	if (sub == "explain" || sub == "config") && !hasConfig {
		out = append(out[:1], append([]string{"--env-file", filepath.Join(dir, EnvFileName)}, out[1:]...)...)
	}
	if sub == "explain" || sub == "mint" {
		out = append(out[:1], append([]string{"--addr", addr, "--key", devKey(t)}, out[1:]...)...)
	}
	return out
}

// missingLines returns the first wanted line that does not appear in got
// after the previous one ("" when all do). Runs of spaces are one space.
func missingLines(got string, want []string) string {
	norm := func(s string) string {
		return reBytes.ReplaceAllString(strings.Join(strings.Fields(s), " "), "N bytes (limit")
	}
	var have []string
	for _, l := range strings.Split(got, "\n") {
		have = append(have, norm(l))
	}
	at := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "…" {
			continue
		}
		w = norm(w)
		for at < len(have) && have[at] != w {
			at++
		}
		if at == len(have) {
			return w
		}
		at++
	}
	return ""
}

// shellWords splits a documented command line: words separated by
// spaces, double quotes grouping, $NAME expanded from vars.
func shellWords(t *testing.T, s string, vars map[string]string) []string {
	var out []string
	var cur strings.Builder
	quoted, inWord := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				out = append(out, expandVars(cur.String(), vars))
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		out = append(out, expandVars(cur.String(), vars))
	}
	return out
}

var reVar = regexp.MustCompile(`\$([A-Z_]+)`)

func expandVars(s string, vars map[string]string) string {
	return reVar.ReplaceAllStringFunc(s, func(m string) string { return vars[m[1:]] })
}
