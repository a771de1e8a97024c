package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testMtime = time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)

type tarEntry struct {
	name string
	typ  byte
	mode int64
	data string
}

func readTar(t *testing.T, b []byte) []tarEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s: owner %d:%d %s:%s, want 0:0 root:root", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(testMtime.Truncate(time.Second)) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, testMtime)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{h.Name, h.Typeflag, h.Mode, string(data)})
	}
	return out
}

func TestWriteTar(t *testing.T) {
	dirs := []tarEntry{
		{"dns/", tar.TypeDir, 0o755, ""},
		{"office365/", tar.TypeDir, 0o755, ""},
		{"opendkim/", tar.TypeDir, 0o755, ""},
		{"opendkim/keys/", tar.TypeDir, 0o750, ""},
		{"opendkim/keys/example.com/", tar.TypeDir, 0o750, ""},
		{"postfix/", tar.TypeDir, 0o755, ""},
	}
	tests := []struct {
		name           string
		includeSecrets bool
		wantNames      []string
	}{
		{
			name: "without secrets",
			wantNames: []string{
				ManifestName, "README.md", "answers.yaml", "dns/", "dns/example.com.zone", "install.sh",
				"office365/", "office365/README.md", "opendkim/", "opendkim/KeyTable", "opendkim/keys/",
				"opendkim/keys/example.com/", keyPath, "postfix/", "postfix/main.cf.snippet",
			},
		},
		{
			name:           "with secrets",
			includeSecrets: true,
			wantNames: []string{
				ManifestName, "README.md", "answers.yaml", "dns/", "dns/example.com.zone", "install.sh",
				"office365/", "office365/README.md", "opendkim/", "opendkim/KeyTable", "opendkim/keys/",
				"opendkim/keys/example.com/", keyPath, "postfix/", "postfix/main.cf.snippet", "postfix/sasl_passwd",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTar(&buf, sampleManifest(), sampleFiles(), tt.includeSecrets, testMtime); err != nil {
				t.Fatal(err)
			}
			entries := readTar(t, buf.Bytes())

			var names []string
			byName := map[string]tarEntry{}
			for _, e := range entries {
				names = append(names, e.name)
				byName[e.name] = e
			}
			if !slices.Equal(names, tt.wantNames) {
				t.Errorf("names:\n got %q\nwant %q", names, tt.wantNames)
			}
			for _, d := range dirs {
				if got := byName[d.name]; got != d {
					t.Errorf("dir %s = %+v, want %+v", d.name, got, d)
				}
			}
			for _, f := range sampleFiles() {
				got, ok := byName[f.Path]
				if f.Secret && !tt.includeSecrets {
					if ok {
						t.Errorf("secret %s is in the tar", f.Path)
					}
					continue
				}
				want := tarEntry{f.Path, tar.TypeReg, int64(f.Mode), string(f.Data)}
				if got != want {
					t.Errorf("%s = %+v, want %+v", f.Path, got, want)
				}
			}

			// bundle.json lists exactly the files the tar holds.
			m, err := Decode([]byte(byName[ManifestName].data))
			if err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, f := range m.Files {
				listed = append(listed, f.Path)
			}
			var held []string
			for _, e := range entries {
				if e.typ == tar.TypeReg && e.name != ManifestName {
					held = append(held, e.name)
				}
			}
			if !slices.Equal(listed, held) {
				t.Errorf("bundle.json lists %q, tar holds %q", listed, held)
			}

			// Extracted, it is a bundle that verifies cleanly.
			dir := t.TempDir()
			for _, e := range entries {
				p := filepath.Join(dir, filepath.FromSlash(e.name))
				if e.typ == tar.TypeDir {
					must(t, os.Mkdir(p, fs.FileMode(e.mode)))
					continue
				}
				must(t, os.WriteFile(p, []byte(e.data), fs.FileMode(e.mode)))
				must(t, os.Chmod(p, fs.FileMode(e.mode)))
			}
			read, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if mm, err := Verify(dir, read); err != nil || len(mm) != 0 {
				t.Errorf("Verify of the extracted tar = %v, %v", mm, err)
			}

			// Deterministic: same input, same bytes.
			var again bytes.Buffer
			if err := WriteTar(&again, sampleManifest(), sampleFiles(), tt.includeSecrets, testMtime); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("two WriteTar runs differ")
			}
		})
	}
}

// TestWriteTarMatchesWrite checks that the tar's bundle.json is the one
// Write puts on disk when secrets are included.
func TestWriteTarMatchesWrite(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir, sampleFiles(), Options{})
	onDisk, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteTar(&buf, sampleManifest(), sampleFiles(), true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !h.ModTime.Equal(time.Unix(0, 0)) {
		t.Errorf("zero mtime gave %v, want the Unix epoch", h.ModTime)
	}
	inTar, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != ManifestName || !bytes.Equal(inTar, onDisk) {
		t.Errorf("first entry %s:\n%s\nwant bundle.json:\n%s", h.Name, inTar, onDisk)
	}
}
