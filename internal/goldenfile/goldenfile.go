// Package goldenfile compares test output with reviewed golden files under
// testdata/, and rewrites them when the tests run with -update.
package goldenfile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendready/sendready/generators"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ (then review the diff)")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Path is testdata/<test name>.golden; subtests become subdirectories.
func Path(t testing.TB) string {
	return filepath.Join("testdata", t.Name()+".golden")
}

// Assert compares got with the golden file at path, or rewrites the file
// with -update.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it, then review it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("output differs from %s (run with -update and review the diff):\n%s", path, got)
	}
}

// Dump renders generated files as one text: a header per file (path,
// install target, mode), then its contents.
func Dump(files []generators.File) string {
	var b strings.Builder
	for _, f := range files {
		b.WriteString("==> " + f.Path + " -> " + f.Target + " (" + f.Mode.String() + ")\n")
		b.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			b.WriteString("\n[no newline at end of file]\n")
		}
	}
	return b.String()
}
