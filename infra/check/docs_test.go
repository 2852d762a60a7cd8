package check

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

var reSettingName = regexp.MustCompile(`JWTGATE_[A-Z0-9_]*[A-Z0-9]`)

// harnessNames are JWTGATE_ variables of the test harness (the Makefile
// sets them for end-to-end tests), not settings of the product.
func harnessNames(t *testing.T) []string {
	return reSettingName.FindAllString(string(readRepoFile(t, "Makefile")), -1)
}

func TestEverySettingIsDocumentedInTheREADMEAndNothingElse(t *testing.T) {
	readme := string(readRepoFile(t, "README.md"))
	names := settingNames(t)
	for _, n := range names {
		if !regexp.MustCompile(`\b` + n + `\b`).MatchString(readme) {
			t.Errorf("%s is not documented in README.md", n)
		}
	}
	harness := harnessNames(t)
	for _, n := range reSettingName.FindAllString(readme, -1) {
		if !slices.Contains(names, n) && !slices.Contains(harness, n) {
			t.Errorf("README.md documents %s, which the code does not read (config.Settings)", n)
		}
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
