package check

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/shared/localrun/localruntest"
)

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(localruntest.Root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
