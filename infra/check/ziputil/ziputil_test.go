package ziputil

import (
	"archive/zip"
	"bytes"
	"testing"
)

func TestBuildIsByteIdenticalAcrossRuns(t *testing.T) {
	entries := []Entry{
		{Name: "host.json", Data: []byte(`{"version":"2.0"}`)},
		{Name: "handler", Data: []byte("\x7fELF..."), Executable: true},
		{Name: "authorize/function.json", Data: []byte(`{"bindings":[]}`)},
	}
	a, err := Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(entries)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same entries differ")
	}
}

func TestBuildFixesModesTimesAndOrder(t *testing.T) {
	z, err := Build([]Entry{
		{Name: "bootstrap", Data: []byte("bin"), Executable: true},
		{Name: "a/b.json", Data: []byte("{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode string
	}{{"bootstrap", "-rwxr-xr-x"}, {"a/b.json", "-rw-r--r--"}}
	if len(r.File) != len(want) {
		t.Fatalf("got %d entries, want %d", len(r.File), len(want))
	}
	for i, f := range r.File {
		if f.Name != want[i].name || f.Mode().String() != want[i].mode {
			t.Errorf("entry %d: %s %s, want %s %s", i, f.Name, f.Mode(), want[i].name, want[i].mode)
		}
		if !f.Modified.Equal(Epoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, Epoch)
		}
	}
}

func TestBuildRejectsUnsafeOrRepeatedNames(t *testing.T) {
	for _, name := range []string{"", "/etc/passwd", "../x", "a/../../x", `a\b`, "a//b", "./a"} {
		if _, err := Build([]Entry{{Name: name}}); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := Build([]Entry{{Name: "x"}, {Name: "x"}}); err == nil {
		t.Error("a repeated name was accepted")
	}
}
