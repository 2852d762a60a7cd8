package check

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

// The documentation's homes: the settings table and the reason-code table
// each live in one page, under one heading.
const (
	settingsPage    = "docs/configuration.md"
	settingsHeading = "Environment variables"
	reasonsPage     = "docs/decisions.md"
	reasonsHeading  = "Reason codes"
)

var reSettingName = regexp.MustCompile(`JWTGATE_[A-Z0-9_]*[A-Z0-9]`)

// harnessNames are JWTGATE_ variables of the test harness (the Makefile
// sets them for end-to-end tests), not settings of the product.
func harnessNames(t *testing.T) []string {
	return reSettingName.FindAllString(string(readRepoFile(t, "Makefile")), -1)
}

// section returns the prose lines under the heading (any level) up to the
// next heading of the same or a higher level.
func (d doc) section(t *testing.T, heading string) []string {
	t.Helper()
	var out []string
	level := 0
	for _, i := range d.prose {
		l := d.lines[i]
		m := reHeading.FindStringSubmatch(l)
		if m != nil {
			n := len(l) - len(strings.TrimLeft(l, "#"))
			if level > 0 && n <= level {
				break
			}
			if level == 0 && m[1] == heading {
				level = n
			}
			continue
		}
		if level > 0 {
			out = append(out, l)
		}
	}
	if level == 0 {
		t.Fatalf("%s has no heading %q", d.rel, heading)
	}
	return out
}

// tableKeys are the backquoted first cells of the table rows in lines.
func tableKeys(lines []string) []string {
	var keys []string
	for _, l := range lines {
		if m := reTableCode.FindStringSubmatch(l); m != nil {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// sameSet reports, for a table that must hold exactly one row per wanted
// key, the keys missing, repeated and unknown.
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
		if !slices.Contains(want, k) {
			t.Errorf("%s has a row for %s, which the code does not have", what, k)
		}
	}
	for _, k := range want {
		switch seen[k] {
		case 0:
			t.Errorf("%s has no row for %s", what, k)
		case 1:
		default:
			t.Errorf("%s has %d rows for %s", what, seen[k], k)
		}
	}
}

// The settings table is in step with config.Settings, one row each, and
// no page names a JWTGATE_ variable the code does not read.
func TestEverySettingIsDocumentedInTheConfigurationPageAndNothingElse(t *testing.T) {
	names := settingNames(t)
	table := tableKeys(loadDoc(t, settingsPage).section(t, settingsHeading))
	sameSet(t, settingsPage+" ("+settingsHeading+")", table, names)

	harness := harnessNames(t)
	for _, d := range loadDocs(t) {
		for _, n := range reSettingName.FindAllString(strings.Join(d.lines, "\n"), -1) {
			if !slices.Contains(names, n) && !slices.Contains(harness, n) {
				t.Errorf("%s names %s, which the code does not read (config.Settings)", d.rel, n)
			}
		}
	}
}

// Every relative link in README.md and docs/*.md resolves: the file
// exists and, for a Markdown file, so does the #anchor.
func TestEveryRelativeLinkResolves(t *testing.T) {
	docs := loadDocs(t)
	anchors := map[string]map[string]bool{}
	for _, d := range docs {
		anchors[d.rel] = d.anchors()
	}
	checked := 0
	for _, d := range docs {
		for _, i := range d.prose {
			line := reCodeSpan.ReplaceAllString(d.lines[i], "")
			for _, m := range reMDLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				checked++
				file, anchor, _ := strings.Cut(target, "#")
				rel := d.rel
				if file != "" {
					rel = path.Clean(path.Join(path.Dir(d.rel), file))
				}
				if strings.HasPrefix(rel, "../") || !fileExists(t, rel) {
					t.Errorf("%s:%d: link %s: %s does not exist", d.rel, i+1, target, rel)
					continue
				}
				if anchor == "" {
					continue
				}
				a, ok := anchors[rel]
				if !ok {
					if !strings.HasSuffix(rel, ".md") {
						t.Errorf("%s:%d: link %s: an anchor into a file that is not Markdown", d.rel, i+1, target)
						continue
					}
					a = loadDoc(t, rel).anchors()
					anchors[rel] = a
				}
				if !a[anchor] {
					t.Errorf("%s:%d: link %s: %s has no heading for #%s", d.rel, i+1, target, rel, anchor)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d relative links found: the link scan is broken", checked)
	}
}

func TestTheLinkCheckFindsBrokenLinks(t *testing.T) {
	d := parseDoc("docs/x.md", "# Title\nsee [a](#title), [b](#nope), `[c](#in-code)`\n")
	var bad []string
	a := d.anchors()
	for _, i := range d.prose {
		for _, m := range reMDLink.FindAllStringSubmatch(reCodeSpan.ReplaceAllString(d.lines[i], ""), -1) {
			if !a[strings.TrimPrefix(m[1], "#")] {
				bad = append(bad, m[1])
			}
		}
	}
	if !slices.Equal(bad, []string{"#nope"}) {
		t.Errorf("broken links found: %v, want [#nope]", bad)
	}
}

// The settings list itself must be complete: every JWTGATE_ name that the
// product's code spells out (non-test .go files under shared/ and
// functions/) is in config.Settings.
func TestEveryVariableTheCodeNamesIsInTheSettingsList(t *testing.T) {
	root := localruntest.Root(t)
	names := settingNames(t)
	harness := harnessNames(t)
	literal := regexp.MustCompile(`"(JWTGATE_[A-Z0-9_]+)"`)
	found := 0
	for _, dir := range []string{"shared", "functions"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllStringSubmatch(string(data), -1) {
				found++
				if !slices.Contains(names, m[1]) && !slices.Contains(harness, m[1]) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s names %s, which is not in config.Settings", rel, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found == 0 {
		t.Fatal("no JWTGATE_ literal found in the code: the scan is broken")
	}
}
