package check

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// Every fenced block in README.md and docs/*.md is checked by its kind
// (docs/development.md, "Write documentation", lists them).
func TestEveryDocExampleIsCheckedByItsKind(t *testing.T) {
	sh := newShellChecker(t)
	counts := map[string]int{}
	for _, d := range loadDocs(t) {
		for _, f := range d.blocks {
			where := fmt.Sprintf("%s:%d", d.rel, f.line)
			counts[f.kind]++
			var err error
			switch f.kind {
			case "sh":
				err = sh.check(f.body)
			case "env":
				err = checkEnvLines(f.body)
			case "policy":
				err = checkPolicy(f.body)
			case "apim":
				err = checkAPIM(f.body)
			case "replay-output":
				err = checkReplayOutput(t, f.body)
			case "yaml":
				var v any
				err = yaml.Unmarshal([]byte(f.body), &v)
			case "json":
				var v any
				err = json.Unmarshal([]byte(f.body), &v)
			case "xml":
				err = checkXML(f.body)
			case "nginx":
				err = checkNginx(f.body)
			case "mermaid":
				if !regexp.MustCompile(`^(flowchart|graph|sequenceDiagram|stateDiagram)`).MatchString(f.body) {
					err = fmt.Errorf("not a Mermaid diagram")
				}
			case "console":
				err = checkConsole(sh, f.body)
			case "text":
			default:
				err = fmt.Errorf("fence of kind %q: give it a language or a <!-- check: KIND --> line (see docs/development.md)", f.kind)
			}
			if err != nil {
				t.Errorf("%s: %s example: %v", where, f.kind, err)
			}
		}
	}
	for _, k := range []string{"sh", "env", "policy", "apim", "replay-output"} {
		if counts[k] == 0 {
			t.Errorf("no %s example found: the docs or the fence scan changed", k)
		}
	}
}

// checkConsole checks a console session: "$ " command lines, each output
// line after its command. The commands must be `go run ./functions/replay`
// forms (plain, NAME=$(…) or echo "…" |), checked like sh commands;
// functions/replay/docs_test.go runs them and compares the output shown.
func checkConsole(sh *shellChecker, body string) error {
	inner := regexp.MustCompile(`^(?:[A-Z_]+=\$\((.*)\)|echo "[^"]*" \| (.*)|(go run \./functions/replay .*))$`)
	var cmds []string
	for i, l := range strings.Split(body, "\n") {
		cmd, ok := strings.CutPrefix(l, "$ ")
		if !ok {
			if i == 0 {
				return fmt.Errorf("a console session starts with a \"$ \" command line")
			}
			continue
		}
		m := inner.FindStringSubmatch(cmd)
		if m == nil {
			return fmt.Errorf("%q: not a go run ./functions/replay command that functions/replay/docs_test.go runs", cmd)
		}
		cmds = append(cmds, m[1]+m[2]+m[3])
	}
	return sh.check(strings.Join(cmds, "\n"))
}

// envFromLines loads KEY=VALUE lines (comments and blank lines skipped)
// with config.FromEnv, which also validates.
func envFromLines(lines []string) error {
	env := map[string]string{}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("%q is not KEY=VALUE", l)
		}
		env[k] = strings.Trim(v, `"'`)
	}
	if len(env) == 0 {
		return fmt.Errorf("no settings")
	}
	_, err := config.FromEnv(func(k string) string { return env[k] })
	return err
}

func checkEnvLines(body string) error { return envFromLines(strings.Split(body, "\n")) }

func checkPolicy(body string) error {
	c, err := config.LoadPolicy([]byte(body), "example.yaml")
	if err != nil {
		return err
	}
	return c.Validate()
}

func checkAPIM(body string) error {
	c, err := config.LoadAPIM([]byte(body))
	if err != nil {
		return err
	}
	return c.Validate()
}

// checkXML parses an XML example. API Management policy expressions,
// @(…), may hold quotes inside an attribute; they are blanked first.
func checkXML(body string) error {
	var sb strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '@' && i+1 < len(body) && body[i+1] == '(' {
			i = matchParen(body, i+1)
			sb.WriteString("@()")
			continue
		}
		sb.WriteByte(body[i])
	}
	dec := xml.NewDecoder(strings.NewReader("<root>" + sb.String() + "</root>"))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// checkNginx checks the shape of an nginx snippet: balanced braces, and
// every directive ends with ';' or opens a block.
func checkNginx(body string) error {
	depth := 0
	for i, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		depth += strings.Count(l, "{") - strings.Count(l, "}")
		if depth < 0 {
			return fmt.Errorf("line %d: unbalanced }", i+1)
		}
		if !strings.HasSuffix(l, ";") && !strings.HasSuffix(l, "{") && !strings.HasSuffix(l, "}") {
			return fmt.Errorf("line %d: %q does not end with ;", i+1, l)
		}
	}
	if depth != 0 {
		return fmt.Errorf("unbalanced braces")
	}
	return nil
}

// checkReplayOutput compares a shown `make replay` table with
// events/expectations.json: every event, its decision, reason and status.
func checkReplayOutput(t *testing.T, body string) error {
	var expect map[string]struct {
		Outcome string `json:"outcome"`
		Reason  string `json:"reason"`
		Status  int    `json:"status"`
	}
	if err := json.Unmarshal(readRepoFile(t, "events/expectations.json"), &expect); err != nil {
		return err
	}
	seen := 0
	for _, l := range strings.Split(body, "\n") {
		f := strings.Fields(l)
		if len(f) != 7 || f[0] == "EVENT" {
			continue
		}
		e, ok := expect[f[0]]
		if !ok {
			return fmt.Errorf("%s is not in events/expectations.json", f[0])
		}
		if got := fmt.Sprintf("%s %s %s", f[2], f[3], f[4]); got != fmt.Sprintf("%s %s %d", e.Outcome, e.Reason, e.Status) {
			return fmt.Errorf("%s: shown %q, expected %s %s %d", f[0], got, e.Outcome, e.Reason, e.Status)
		}
		seen++
	}
	if seen != len(expect) {
		return fmt.Errorf("%d events shown, events/expectations.json has %d", seen, len(expect))
	}
	if !strings.Contains(body, fmt.Sprintf("%d events", len(expect))) {
		return fmt.Errorf("the summary line does not say %d events", len(expect))
	}
	return nil
}

// shellChecker checks the commands of sh examples against the repository:
// make targets, go packages and their flags, settings, files and template
// parameters. Programs it cannot run here must be on knownPrograms.
type shellChecker struct {
	t        *testing.T
	root     string
	targets  []string
	samParam []string
	bicep    []string
	mu       sync.Mutex
	bins     map[string]string // package dir → built binary
	usage    map[string]string // binary + subcommand → -h output
}

var knownPrograms = []string{"aws", "az", "sam", "func", "curl", "zip", "unzip", "cp", "mkdir", "cat", "cd", "openssl", "docker"}

func newShellChecker(t *testing.T) *shellChecker {
	root := localruntest.Root(t)
	s := &shellChecker{t: t, root: root, bins: map[string]string{}, usage: map[string]string{}}
	for _, m := range regexp.MustCompile(`(?m)^([a-zA-Z0-9_-]+):`).FindAllStringSubmatch(string(readRepoFile(t, "Makefile")), -1) {
		s.targets = append(s.targets, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^  (Jwtgate[A-Za-z0-9]+|[A-Z][A-Za-z0-9]+):\n    Type:`).FindAllStringSubmatch(string(readRepoFile(t, samTemplate)), -1) {
		s.samParam = append(s.samParam, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^param ([A-Za-z0-9]+) `).FindAllStringSubmatch(string(readRepoFile(t, bicepFile)), -1) {
		s.bicep = append(s.bicep, m[1])
	}
	if len(s.targets) == 0 || len(s.samParam) == 0 || len(s.bicep) == 0 {
		t.Fatalf("make targets %d, SAM parameters %d, Bicep parameters %d: a scan is broken", len(s.targets), len(s.samParam), len(s.bicep))
	}
	return s
}

// check runs over every command of a shell example.
func (s *shellChecker) check(body string) error {
	var errs []string
	built := []string{}
	for _, cmd := range shellCommands(body) {
		if err := s.command(cmd, &built); err != nil {
			errs = append(errs, fmt.Sprintf("%q: %v", strings.Join(cmd.words, " "), err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

var reAssign = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func (s *shellChecker) command(c shellCmd, built *[]string) error {
	if c.heredoc != "" {
		if strings.HasSuffix(c.words[len(c.words)-1], ".env") {
			if err := checkEnvLines(c.heredoc); err != nil {
				return fmt.Errorf("here-document: %v", err)
			}
		}
	}
	words := c.words
	var settings []string
	for len(words) > 0 && reAssign.MatchString(words[0]) {
		if strings.HasPrefix(words[0], "JWTGATE_") {
			settings = append(settings, words[0])
		}
		words = words[1:]
	}
	if len(settings) > 0 {
		if err := envFromLines(settings); err != nil {
			return fmt.Errorf("settings: %v", err)
		}
	}
	if len(words) == 0 {
		return nil
	}
	if err := s.paths(words); err != nil {
		return err
	}
	switch prog := words[0]; {
	case prog == "make":
		for _, w := range words[1:] {
			if !reAssign.MatchString(w) && !strings.HasPrefix(w, "-") && !slices.Contains(s.targets, w) {
				return fmt.Errorf("make has no target %s", w)
			}
		}
		return nil
	case prog == "go":
		return s.goCommand(words[1:], built)
	case prog == "sam", prog == "az", prog == "aws":
		return s.cloudCommand(words)
	case strings.HasPrefix(prog, "./"):
		if !slices.Contains(*built, strings.TrimPrefix(prog, "./")) {
			return fmt.Errorf("%s is not built earlier in the example", prog)
		}
		return nil
	case slices.Contains(knownPrograms, prog):
		return nil
	default:
		return fmt.Errorf("unknown program %s (add it to knownPrograms if it cannot be checked)", prog)
	}
}

// paths checks that repository paths named by the command exist.
func (s *shellChecker) paths(words []string) error {
	for _, w := range words {
		w = strings.Trim(w, `"'`)
		if _, v, ok := strings.Cut(w, "="); ok && !strings.HasPrefix(w, "-") {
			w = v
		}
		p := strings.TrimPrefix(w, "./")
		for _, top := range []string{"functions/", "shared/", "infra/", "events/"} {
			if strings.HasPrefix(p, top) && !strings.ContainsAny(p, "*$") {
				if _, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(p))); err != nil {
					return fmt.Errorf("%s does not exist", p)
				}
			}
		}
	}
	return nil
}

func (s *shellChecker) goCommand(args []string, built *[]string) error {
	dir := "."
	if len(args) >= 2 && args[0] == "-C" {
		dir, args = args[1], args[2:]
	}
	if len(args) == 0 {
		return fmt.Errorf("go without a command")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "build":
		var pkgs []string
		for i := 0; i < len(args); i++ {
			switch a := args[i]; {
			case a == "-o" && i+1 < len(args):
				*built = append(*built, path.Base(args[i+1]))
				i++
			case a == "-tags" || a == "-ldflags":
				i++
			case strings.HasPrefix(a, "./"):
				pkgs = append(pkgs, a)
			}
		}
		if len(pkgs) == 0 {
			return fmt.Errorf("go build of no ./package")
		}
		for _, p := range pkgs {
			if err := s.mainPackage(path.Join(dir, p)); err != nil {
				return err
			}
		}
		return nil
	case "run":
		if len(args) == 0 || !strings.HasPrefix(args[0], "./") {
			return fmt.Errorf("go run of no ./package")
		}
		pkg := path.Join(dir, args[0])
		if err := s.mainPackage(pkg); err != nil {
			return err
		}
		if dir != "." {
			return nil // a nested module's tool: the package must exist
		}
		return s.runArgs(pkg, args[1:])
	case "test", "vet":
		return nil
	default:
		return fmt.Errorf("go %s is not checked", sub)
	}
}

func (s *shellChecker) mainPackage(pkg string) error {
	data, err := exec.Command("go", "-C", s.root, "list", "-f", "{{.Name}}", "./"+pkg).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go list ./%s: %v: %s", pkg, err, data)
	}
	if strings.TrimSpace(string(data)) != "main" {
		return fmt.Errorf("./%s is not a main package", pkg)
	}
	return nil
}

// runArgs checks a `go run ./pkg [subcommand] flags…` command: every flag
// is in the (sub)command's -h output. `mint` commands are run.
func (s *shellChecker) runArgs(pkg string, args []string) error {
	args = slices.Clone(args)
	hasFlags := false
	for i, a := range args {
		args[i] = unquote(a)
		hasFlags = hasFlags || strings.HasPrefix(a, "-")
	}
	var subcmd []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		subcmd = args[:1]
	}
	if !hasFlags && len(subcmd) == 0 {
		return nil // a server without flags: building it is the check
	}
	bin, err := s.binary(pkg)
	if err != nil {
		return err
	}
	if slices.Equal(subcmd, []string{"mint"}) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = s.root
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("mint failed: %v", err)
		}
		if strings.Count(strings.TrimSpace(string(out)), ".") != 2 {
			return fmt.Errorf("mint printed %q, not a compact JWS", out)
		}
		return nil
	}
	usage, err := s.help(bin, subcmd)
	if err != nil {
		return err
	}
	for _, a := range args[len(subcmd):] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(name) + `\b`).MatchString(usage) {
			return fmt.Errorf("%s %v has no flag -%s", pkg, subcmd, name)
		}
	}
	return nil
}

// unquote drops one pair of surrounding quotes, as the shell would.
func unquote(w string) string {
	if len(w) >= 2 && (w[0] == '\'' || w[0] == '"') && strings.HasSuffix(w, w[:1]) {
		return w[1 : len(w)-1]
	}
	return w
}

func (s *shellChecker) binary(pkg string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.bins[pkg]; ok {
		return b, nil
	}
	b := filepath.Join(s.t.TempDir(), path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", b, "./"+pkg)
	cmd.Dir = s.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %v: %s", pkg, err, out)
	}
	s.bins[pkg] = b
	return b, nil
}

func (s *shellChecker) help(bin string, subcmd []string) (string, error) {
	key := bin + " " + strings.Join(subcmd, " ")
	if u, ok := s.usage[key]; ok {
		return u, nil
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, append(slices.Clone(subcmd), "-h")...)
	cmd.Dir = s.root
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // -h exits non-zero with the flag package
	if !strings.Contains(out.String(), "  -") {
		return "", fmt.Errorf("%s -h printed no flags: %q", key, out.String())
	}
	s.usage[key] = out.String()
	return out.String(), nil
}

// cloudCommand checks what a sam / az / aws command names in the
// repository: its template file, its template parameters, and settings in
// a Lambda --environment.
func (s *shellChecker) cloudCommand(words []string) error {
	params := ""
	for i := 1; i < len(words); i++ {
		w := strings.Trim(words[i], `"'`)
		switch {
		case w == "--template-file" && i+1 < len(words):
			if !fileExistsAt(s.root, words[i+1]) {
				return fmt.Errorf("%s does not exist", words[i+1])
			}
		case w == "--parameter-overrides" || w == "--parameters":
			params = w
		case strings.HasPrefix(w, "--"):
			params = ""
		case strings.HasPrefix(w, "Variables={"):
			vars := strings.Split(strings.TrimSuffix(strings.TrimPrefix(w, "Variables={"), "}"), ",")
			if err := envFromLines(vars); err != nil {
				return fmt.Errorf("--environment: %v", err)
			}
		case params != "" && strings.Contains(w, "="):
			name, _, _ := strings.Cut(w, "=")
			known := s.samParam
			if params == "--parameters" {
				known = s.bicep
			}
			if !slices.Contains(known, name) {
				return fmt.Errorf("%s is not a parameter of the template", name)
			}
		}
	}
	return nil
}

func fileExistsAt(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// shellCmd is one simple command of an example: its words (quotes kept
// around quoted words), and the body of its here-document, if any.
type shellCmd struct {
	words   []string
	heredoc string
}

var reHeredoc = regexp.MustCompile(`<<-?\s*'?([A-Z]+)'?`)

// shellCommands splits an example into simple commands: continuation
// lines joined, comments dropped, here-documents taken, and commands split
// at && || ; | and parentheses. Each $(…) is a command of its own too.
func shellCommands(body string) []shellCmd {
	var cmds []shellCmd
	lines := strings.Split(body, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		for strings.HasSuffix(strings.TrimRight(line, " "), `\`) && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(strings.TrimRight(line, " "), `\`) + " " + lines[i]
		}
		heredoc := ""
		if m := reHeredoc.FindStringSubmatch(line); m != nil {
			var hd []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != m[1]; i++ {
				hd = append(hd, lines[i])
			}
			heredoc = strings.Join(hd, "\n")
			line = reHeredoc.ReplaceAllString(line, "")
		}
		for _, words := range splitCommands(line) {
			cmds = append(cmds, shellCmd{words: words})
		}
		if heredoc != "" && len(cmds) > 0 {
			cmds[len(cmds)-1].heredoc = heredoc
		}
	}
	return cmds
}

// splitCommands tokenizes one line. Quoted text stays one word with its
// quotes; $(…) is replaced by a placeholder word and split on its own.
func splitCommands(line string) [][]string {
	var out [][]string
	var words []string
	var cur strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(words) > 0 {
			out = append(out, words)
			words = nil
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '#' && !inWord:
			i = len(line)
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(line) && line[j] != c {
				if c == '"' && line[j] == '$' && j+1 < len(line) && line[j+1] == '(' {
					end := matchParen(line, j+1)
					out = append(out, splitCommands(line[j+2:end])...)
					j = end
				}
				j++
			}
			cur.WriteString(line[i:min(j+1, len(line))])
			inWord = true
			i = j
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			end := matchParen(line, i+1)
			out = append(out, splitCommands(line[i+2:end])...)
			cur.WriteString("$SUBST")
			inWord = true
			i = end
		case c == ' ' || c == '\t':
			flushWord()
		case c == ';' || c == '(' || c == ')' || c == '|' || c == '&':
			flushCmd()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return out
}

// matchParen returns the index of the ')' closing the '(' at open.
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return len(s) - 1
}

func TestShellCommandsSplitsAnExample(t *testing.T) {
	body := "A=1 go run ./x --f \\\n  --g # comment\n(cd d && zip -r ../z.zip .)\ncurl -H \"Authorization: Bearer $(go run ./r mint --sub a)\" u\ncat > my.env <<'END'\nK=V\nEND\n"
	var got []string
	for _, c := range shellCommands(body) {
		got = append(got, strings.Join(c.words, " ")+"|"+c.heredoc)
	}
	want := []string{
		"A=1 go run ./x --f --g|",
		"cd d|",
		"zip -r ../z.zip .|",
		"go run ./r mint --sub a|",
		`curl -H "Authorization: Bearer $(go run ./r mint --sub a)" u|`,
		"cat > my.env|K=V",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTheExampleChecksRefuseWrongExamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"env without an audience", checkEnvLines("JWTGATE_OPENID_CONFIG=https://i.example/.well-known/openid-configuration")},
		{"policy with an unknown field", checkPolicy("audiences: [a]\nopenid_config: [https://i.example]\nclock_skw: 30s\n")},
		{"APIM policy without audiences", checkAPIM(`<validate-jwt><openid-config url="https://i.example/x"/></validate-jwt>`)},
		{"nginx without ;", checkNginx("location / {\n  auth_request /x\n}\n")},
		{"XML not closed", checkXML("<a><b></a>")},
	} {
		if tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	s := newShellChecker(t)
	for _, bad := range []string{
		"make no-such-target",
		"go run ./functions/no-such-package",
		"sam deploy --parameter-overrides JwtgateNoSuchSetting=1",
		"az deployment group create --template-file infra/azure/main.bicep --parameters noSuchParam=1",
		"frobnicate --now",
		"JWTGATE_CLOCK_SKEW=abc JWTGATE_AUDIENCES=a JWTGATE_OPENID_CONFIG=https://i.example go run ./functions/azure",
		"./handler",
	} {
		if err := s.check(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
