package check

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// A doc is one Markdown file of the documentation: README.md or docs/*.md.
type doc struct {
	rel    string   // path from the repository root, with slashes
	lines  []string // the file's lines
	blocks []fence  // fenced code blocks
	prose  []int    // indexes of the lines outside fences
}

// A fence is one fenced code block.
type fence struct {
	line int    // 1-based line of the opening fence
	lang string // first word of the info string
	kind string // what the docs tests check it as: the <!-- check: KIND --> tag, else lang
	body string // the content, with the fence's indentation removed
}

var (
	reFenceOpen = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*([^`\\s]*)")
	reCheckTag  = regexp.MustCompile(`^\s*<!--\s*check:\s*([a-z-]+)\s*-->\s*$`)
)

// docFiles lists README.md and every docs/*.md, the pages the docs tests
// cover.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := localruntest.Root(t)
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no docs/*.md: the documentation moved or the glob is wrong")
	}
	files := []string{"README.md"}
	for _, p := range pages {
		rel, _ := filepath.Rel(root, p)
		files = append(files, filepath.ToSlash(rel))
	}
	slices.Sort(files[1:])
	return files
}

func loadDoc(t *testing.T, rel string) doc {
	t.Helper()
	return parseDoc(rel, string(readRepoFile(t, rel)))
}

func loadDocs(t *testing.T) []doc {
	t.Helper()
	var docs []doc
	for _, rel := range docFiles(t) {
		docs = append(docs, loadDoc(t, rel))
	}
	return docs
}

// parseDoc splits a Markdown file into prose lines and fenced blocks.
func parseDoc(rel, text string) doc {
	d := doc{rel: rel, lines: strings.Split(text, "\n")}
	for i := 0; i < len(d.lines); i++ {
		m := reFenceOpen.FindStringSubmatch(d.lines[i])
		if m == nil {
			d.prose = append(d.prose, i)
			continue
		}
		indent, marker := m[1], m[2]
		f := fence{line: i + 1, lang: m[3], kind: m[3]}
		if i > 0 {
			if tag := reCheckTag.FindStringSubmatch(d.lines[i-1]); tag != nil {
				f.kind = tag[1]
			}
		}
		var body []string
		for i++; i < len(d.lines); i++ {
			l := d.lines[i]
			if strings.HasPrefix(strings.TrimSpace(l), marker) && strings.Trim(strings.TrimSpace(l), marker[:1]) == "" {
				break
			}
			body = append(body, strings.TrimPrefix(l, indent))
		}
		f.body = strings.Join(body, "\n")
		d.blocks = append(d.blocks, f)
	}
	return d
}

// proseText is the file without its fenced blocks.
func (d doc) proseText() string {
	var sb strings.Builder
	for _, i := range d.prose {
		sb.WriteString(d.lines[i])
		sb.WriteByte('\n')
	}
	return sb.String()
}

var (
	reHeading   = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	reHTMLID    = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	reInlineMD  = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	reCodeSpan  = regexp.MustCompile("`+[^`]*`+")
	reMDLink    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	reTableCode = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|")
)

// anchors are the link targets GitHub makes for a file: one per heading
// (github-slugger: text lower-cased, punctuation dropped, spaces to '-',
// repeats numbered -1, -2, …) and one per <a id> / <a name>.
func (d doc) anchors() map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, i := range d.prose {
		l := d.lines[i]
		for _, m := range reHTMLID.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
		m := reHeading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		slug := githubSlug(m[1])
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

// githubSlug turns a heading's Markdown into GitHub's anchor for it.
func githubSlug(heading string) string {
	text := reInlineMD.ReplaceAllString(heading, "$1")
	text = strings.NewReplacer("`", "", "**", "", "__", "").Replace(text)
	text = strings.ToLower(text)
	var sb strings.Builder
	for _, r := range text {
		switch {
		case r == ' ':
			sb.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func TestGitHubSlugFollowsGitHubsRules(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Troubleshoot a refused token", "troubleshoot-a-refused-token"},
		{"Importing an APIM `validate-jwt` policy", "importing-an-apim-validate-jwt-policy"},
		{"Offline checks (`infra/check`, run by `make test` as `make infra`)", "offline-checks-infracheck-run-by-make-test-as-make-infra"},
		{"Deploy on AWS: a Lambda authorizer", "deploy-on-aws-a-lambda-authorizer"},
		{"Keys and caching", "keys-and-caching"},
		{"The [link](x.md) text", "the-link-text"},
		{"snake_case and 1.0 / 2.0", "snake_case-and-10--20"},
	} {
		if got := githubSlug(tc.heading); got != tc.want {
			t.Errorf("githubSlug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
	d := parseDoc("x.md", "# A\n## Same\n```\n## Not a heading\n```\n## Same\n<a id=\"custom\"></a>\n")
	got := d.anchors()
	for _, want := range []string{"a", "same", "same-1", "custom"} {
		if !got[want] {
			t.Errorf("anchor %q missing from %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a heading inside a fence made an anchor")
	}
}

func TestParseDocReadsFencesAndTheirTags(t *testing.T) {
	d := parseDoc("x.md", "text\n<!-- check: env -->\n```sh\nA=1\n```\n1. step\n\n   ```yaml\n   a: 1\n   ```\n````text\n```\n````\n")
	if len(d.blocks) != 3 {
		t.Fatalf("got %d blocks, want 3: %+v", len(d.blocks), d.blocks)
	}
	want := []fence{
		{line: 3, lang: "sh", kind: "env", body: "A=1"},
		{line: 8, lang: "yaml", kind: "yaml", body: "a: 1"},
		{line: 11, lang: "text", kind: "text", body: "```"},
	}
	for i, w := range want {
		if d.blocks[i] != w {
			t.Errorf("block %d = %+v, want %+v", i, d.blocks[i], w)
		}
	}
}

// fileExists reports whether rel (relative to the repository root) exists.
func fileExists(t *testing.T, rel string) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(localruntest.Root(t), filepath.FromSlash(rel)))
	return err == nil
}
