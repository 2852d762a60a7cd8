// Package ziputil builds deployment zips that are byte-for-byte reproducible:
// fixed timestamps, fixed modes, entries in a fixed order, no host metadata.
package ziputil

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Epoch is the modification time of every entry: the earliest time the zip
// format's MS-DOS date fields can hold, so the archive never depends on when
// or where it was built.
var Epoch = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// Entry is one file of the archive.
type Entry struct {
	Name       string // slash-separated path inside the archive, no leading "/"
	Data       []byte
	Executable bool // mode 0755 (Lambda's bootstrap, the Azure handler); else 0644
}

// Build returns the zip holding entries in the given order. It refuses
// names that are absolute, climb out with "..", or repeat.
func Build(entries []Entry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	for _, e := range entries {
		if err := checkName(e.Name); err != nil {
			return nil, err
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("zip entry %q given twice", e.Name)
		}
		seen[e.Name] = true
		mode := fs.FileMode(0o644)
		if e.Executable {
			mode = 0o755
		}
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, Modified: Epoch}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) ||
		path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("zip entry name %q must be a clean relative slash path", name)
	}
	return nil
}
