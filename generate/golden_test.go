package generate

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/sendready/sendready/answers"
)

// seedKeys puts the fixed test keys where Render looks for existing keys,
// so that every rendered file is deterministic.
func seedKeys(t *testing.T, a *answers.Answers, out string) {
	t.Helper()
	for _, s := range a.Signers() {
		if s.External {
			continue
		}
		src := "testdata/keys/rsa2048.pem"
		if s.Algorithm == answers.AlgEd25519 {
			src = "testdata/keys/ed25519.pem"
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(out, "opendkim", "keys", s.Domain, s.Selector+".private")
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGuideGolden renders README.md and install.sh of every topology and
// compares them with testdata/TestGuideGolden/<topology>/. install.sh must
// also be valid POSIX shell (the RHEL ones are not run here).
func TestGuideGolden(t *testing.T) {
	for _, path := range topologies(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			a := loadTopology(t, path)
			out := t.TempDir()
			seedKeys(t, a, out)
			_, files, created, err := Render(Options{Answers: a, Out: out, Root: "/", Version: "test", Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			if len(created) != 0 {
				t.Fatalf("keys were generated although seeded: %v", created)
			}
			seen := 0
			for _, f := range files {
				if f.Path != "README.md" && f.Path != "install.sh" {
					continue
				}
				seen++
				golden := filepath.Join("testdata", "TestGuideGolden", name, f.Path+".golden")
				goldenfile.Assert(t, golden, f.Data)
				if f.Path == "install.sh" {
					script := filepath.Join(out, "install.sh")
					if err := os.WriteFile(script, f.Data, 0o755); err != nil {
						t.Fatal(err)
					}
					if out, err := exec.Command("sh", "-n", script).CombinedOutput(); err != nil {
						t.Errorf("sh -n install.sh: %v\n%s", err, out)
					}
				}
			}
			if seen != 2 {
				t.Errorf("found %d of README.md and install.sh", seen)
			}
		})
	}
}
