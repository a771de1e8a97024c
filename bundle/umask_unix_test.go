//go:build unix

package bundle

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sendready/sendready/generators"
)

// TestWriteModesUnderUmask checks exact modes on disk whatever the umask,
// for created and for replaced files. The umask is process-wide, so this
// test must not run in parallel with others that create files.
func TestWriteModesUnderUmask(t *testing.T) {
	wantDirs := map[string]fs.FileMode{
		"":                              0o755, // the parent Write created
		"out":                           0o755,
		"out/postfix":                   0o755,
		"out/dns":                       0o755,
		"out/office365":                 0o755,
		"out/opendkim":                  0o755,
		"out/opendkim/keys":             0o750,
		"out/opendkim/keys/example.com": 0o750,
	}
	for _, mask := range []int{0o077, 0o000, 0o022, 0o277} {
		t.Run(fmt.Sprintf("umask %04o", mask), func(t *testing.T) {
			old := syscall.Umask(mask)
			t.Cleanup(func() { syscall.Umask(old) })

			base := filepath.Join(t.TempDir(), "made")
			dir := filepath.Join(base, "out")
			check := func(files []generators.File) {
				t.Helper()
				for rel, want := range wantDirs {
					if got := modeOf(t, filepath.Join(base, filepath.FromSlash(rel))); got != want {
						t.Errorf("directory %q mode = %04o, want %04o", rel, got, want)
					}
				}
				for _, f := range files {
					if got := modeOf(t, filepath.Join(dir, filepath.FromSlash(f.Path))); got != f.Mode {
						t.Errorf("%s mode = %04o, want %04o", f.Path, got, f.Mode)
					}
				}
				if got := modeOf(t, filepath.Join(dir, ManifestName)); got != 0o644 {
					t.Errorf("%s mode = %04o, want 0644", ManifestName, got)
				}
			}

			files := sampleFiles()
			mustWrite(t, dir, files, Options{})
			check(files)

			// Replacing goes through a temporary file: same modes.
			for _, p := range []string{"README.md", "postfix/sasl_passwd", "install.sh"} {
				files = withFile(files, p, func(f *generators.File) { f.Data = append(f.Data, "# more\n"...) })
			}
			m := sampleManifest()
			m.SendreadyVersion = "9"
			if _, err := Write(dir, m, files, Options{Force: true}); err != nil {
				t.Fatal(err)
			}
			check(files)
		})
	}
}
