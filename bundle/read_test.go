package bundle

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadVerify(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []string // Mismatch.String() of each, in manifest order
	}{
		{name: "untouched"},
		{
			name: "edited and missing",
			change: func(t *testing.T, dir string) {
				must(t, os.WriteFile(filepath.Join(dir, "postfix/main.cf.snippet"), []byte("myhostname = edited\n"), 0o644))
				must(t, os.Remove(filepath.Join(dir, "README.md")))
			},
			want: []string{
				"README.md: missing",
				"postfix/main.cf.snippet: content changed since it was generated (edited by hand?)",
			},
		},
		{
			name: "mode changed",
			change: func(t *testing.T, dir string) {
				must(t, os.Chmod(filepath.Join(dir, keyPath), 0o644))
			},
			want: []string{keyPath + ": mode is 0644, want 0600"},
		},
		{
			name: "edited and mode changed",
			change: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "install.sh")
				must(t, os.WriteFile(p, []byte("#!/bin/sh\nrm -rf /\n"), 0o755))
				must(t, os.Chmod(p, fs.ModeSetuid|0o755))
			},
			want: []string{"install.sh: content changed since it was generated (edited by hand?); mode is 4755, want 0755"},
		},
		{
			name: "whole directory missing, symlink in place of a file",
			change: func(t *testing.T, dir string) {
				must(t, os.RemoveAll(filepath.Join(dir, "opendkim")))
				must(t, os.WriteFile(filepath.Join(dir, "opendkim"), nil, 0o644))
				p := filepath.Join(dir, "answers.yaml")
				must(t, os.Remove(p))
				must(t, os.Symlink("README.md", p))
			},
			want: []string{
				"answers.yaml: not a regular file",
				"opendkim/KeyTable: missing",
				keyPath + ": missing",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			res := mustWrite(t, dir, sampleFiles(), Options{})
			if tt.change != nil {
				tt.change(t, dir)
			}
			m, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, res.Manifest) {
				t.Errorf("Read = %+v\nwant %+v", m, res.Manifest)
			}
			mm, err := Verify(dir, m)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range mm {
				got = append(got, x.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verify:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadErrors(t *testing.T) {
	t.Run("not a bundle", func(t *testing.T) {
		_, err := Read(t.TempDir())
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "sendready generate") {
			t.Errorf("Read = %v", err)
		}
	})
	const sum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	entry := func(p, target, mode, sha string) string {
		return `{"path":"` + p + `","target":"` + target + `","mode":"` + mode + `","sha256":"` + sha + `"}`
	}
	doc := func(root string, files ...string) string {
		return `{"sendready_version":"1","root":"` + root + `","topology":"direct","hostname":"h","distro":"debian","files":[` +
			strings.Join(files, ",") + `]}`
	}
	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"valid", doc("/", entry("a/b", "/etc/b", "0644", sum)), true},
		{"valid, unknown field", `{"root":"/","files":[],"future":1}`, true},
		{"not json", `{`, false},
		{"traversal", doc("/", entry("../x", "", "0644", sum)), false},
		{"absolute path", doc("/", entry("/x", "", "0644", sum)), false},
		{"manifest lists itself", doc("/", entry(ManifestName, "", "0644", sum)), false},
		{"duplicate", doc("/", entry("a", "", "0644", sum), entry("a", "", "0644", sum)), false},
		{"file and dir", doc("/", entry("a", "", "0644", sum), entry("a/b", "", "0644", sum)), false},
		{"target outside root", doc("/srv/x", entry("a", "/etc/a", "0644", sum)), false},
		{"relative root", doc("srv", entry("a", "", "0644", sum)), false},
		{"mode not octal", doc("/", entry("a", "", "0648", sum)), false},
		{"mode decimal", doc("/", entry("a", "", "420", sum)), false},
		{"mode setuid", doc("/", entry("a", "", "4755", sum)), false},
		{"mode zero", doc("/", entry("a", "", "0000", sum)), false},
		{"short sha", doc("/", entry("a", "", "0644", sum[:10])), false},
		{"upper-case sha", doc("/", entry("a", "", "0644", strings.ToUpper(sum))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.WriteFile(filepath.Join(dir, ManifestName), []byte(tt.json), 0o644))
			_, err := Read(dir)
			if tt.ok {
				if err != nil {
					t.Errorf("Read = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidManifest) {
				t.Errorf("Read = %v, want ErrInvalidManifest", err)
			}
		})
	}
}

func TestModeText(t *testing.T) {
	for _, m := range []Mode{0o600, 0o644, 0o750, 0o755, 0o777, 0o001} {
		b, err := m.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Mode
		if err := back.UnmarshalText(b); err != nil || back != m {
			t.Errorf("%v: round trip gave %v, %v", m, back, err)
		}
	}
	if got := Mode(0o600).String(); got != "0600" {
		t.Errorf("String = %q", got)
	}
	if _, err := Mode(0).MarshalText(); err == nil {
		t.Error("MarshalText(0) succeeded")
	}
}
