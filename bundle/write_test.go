package bundle

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/sendready/sendready/generators"
)

func allPaths(files []generators.File) []string {
	var ps []string
	for _, f := range files {
		ps = append(ps, f.Path)
	}
	slices.Sort(ps)
	return append(ps, ManifestName)
}

func TestWriteThenRerunUnchanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	files := sampleFiles()

	res := mustWrite(t, dir, files, Options{})
	if want := allPaths(files); !slices.Equal(res.Created, want) {
		t.Errorf("Created = %q, want %q", res.Created, want)
	}
	if len(res.Replaced)+len(res.Unchanged) != 0 || !res.Changed() {
		t.Errorf("first run: Replaced %q, Unchanged %q", res.Replaced, res.Unchanged)
	}
	if got, want := res.Summary(), "wrote 10 files"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: got %q, %v; want %q", f.Path, got, err, f.Data)
		}
	}

	before := snapshot(t, dir)
	res = mustWrite(t, dir, files, Options{})
	if res.Changed() || !slices.Equal(res.Unchanged, allPaths(files)) {
		t.Errorf("rerun: Created %q Replaced %q Unchanged %q", res.Created, res.Replaced, res.Unchanged)
	}
	if got, want := res.Summary(), "no changes: 10 files already up to date"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	if d := diffSnapshots(before, snapshot(t, dir)); d != "" {
		t.Errorf("rerun changed the tree:\n%s", d)
	}

	// A new version changes only bundle.json, which is replaced freely.
	m := sampleManifest()
	m.SendreadyVersion = "1.2.4"
	res, err := Write(dir, m, files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Replaced, []string{ManifestName}) || len(res.Created) != 0 {
		t.Errorf("version bump: Created %q Replaced %q", res.Created, res.Replaced)
	}
	if got, want := res.Summary(), "wrote 1 file (1 replaced), 9 unchanged"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

func TestWriteConflicts(t *testing.T) {
	edited := func(files []generators.File) []generators.File {
		files = withFile(files, "README.md", func(f *generators.File) { f.Data = []byte("# new readme\n") })
		files = withFile(files, "postfix/main.cf.snippet", func(f *generators.File) { f.Data = []byte("myhostname = mx.example.com\n") })
		files = withFile(files, "install.sh", func(f *generators.File) { f.Mode = 0o700 })
		return append(files, generators.File{Path: "dns/new.txt", Mode: 0o644, Data: []byte("new\n")})
	}
	newKey := func(files []generators.File) []generators.File {
		return withFile(files, keyPath, func(f *generators.File) { f.Data = []byte("other key\n") })
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // after the first Write
		edit  func([]generators.File) []generators.File
		force bool

		wantErr       bool
		wantExists    bool
		wantKeyExists bool
		wantPaths     []string // conflicting paths, in order
		wantInMsg     []string
		notInMsg      []string
		wantReplaced  []string
	}{
		{
			name:       "edited files refused without force",
			edit:       edited,
			wantErr:    true,
			wantExists: true,
			wantPaths:  []string{"README.md", "install.sh", "postfix/main.cf.snippet"},
			wantInMsg:  []string{"content differs", "mode is 0755, want 0700", "--force", "--out", "nothing was written"},
			notInMsg:   []string{"rotation"},
		},
		{
			name:         "force replaces edited files",
			edit:         edited,
			force:        true,
			wantReplaced: []string{"README.md", "install.sh", "postfix/main.cf.snippet", ManifestName},
		},
		{
			name:          "different key and edited files without force",
			edit:          func(f []generators.File) []generators.File { return newKey(edited(f)) },
			wantErr:       true,
			wantExists:    true,
			wantKeyExists: true,
			wantPaths:     []string{"README.md", "install.sh", keyPath, "postfix/main.cf.snippet"},
			wantInMsg:     []string{"--force", "rotation, not regeneration", "a different private key already exists"},
		},
		{
			name:          "force never replaces a different key",
			edit:          func(f []generators.File) []generators.File { return newKey(edited(f)) },
			force:         true,
			wantErr:       true,
			wantKeyExists: true,
			wantPaths:     []string{keyPath},
			wantInMsg:     []string{"rotation, not regeneration", "not even with --force"},
			notInMsg:      []string{"rerun with --force"},
		},
		{
			name: "force fixes the mode of an identical key",
			setup: func(t *testing.T, dir string) {
				if err := os.Chmod(filepath.Join(dir, keyPath), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			force:        true,
			wantReplaced: []string{keyPath},
		},
		{
			name: "key with the wrong mode is refused without force",
			setup: func(t *testing.T, dir string) {
				if err := os.Chmod(filepath.Join(dir, keyPath), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr:    true,
			wantExists: true,
			wantPaths:  []string{keyPath},
			wantInMsg:  []string{"mode is 0644, want 0600"},
		},
		{
			name: "directory in the way is refused even with force",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "README.md")
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			force:      true,
			wantErr:    true,
			wantExists: true,
			wantPaths:  []string{"README.md"},
			wantInMsg:  []string{"is a directory, not a regular file", "does not remove directories"},
		},
		{
			name: "symlink in the way is refused even with force",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "README.md")
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("answers.yaml", p); err != nil {
					t.Fatal(err)
				}
			},
			force:      true,
			wantErr:    true,
			wantExists: true,
			wantPaths:  []string{"README.md"},
			wantInMsg:  []string{"is a symlink"},
		},
		{
			name: "regular file where a directory is needed",
			setup: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "dns")
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			edit:       edited,
			force:      true,
			wantErr:    true,
			wantExists: true,
			wantPaths:  []string{"dns/example.com.zone", "dns/new.txt"},
			wantInMsg:  []string{"dns is not a directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustWrite(t, dir, sampleFiles(), Options{})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			files := sampleFiles()
			if tt.edit != nil {
				files = tt.edit(files)
			}
			before := snapshot(t, dir)
			res, err := Write(dir, sampleManifest(), files, Options{Force: tt.force})

			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if !slices.Equal(res.Replaced, tt.wantReplaced) {
					t.Errorf("Replaced = %q, want %q", res.Replaced, tt.wantReplaced)
				}
				for _, f := range files {
					p := filepath.Join(dir, filepath.FromSlash(f.Path))
					if got, _ := os.ReadFile(p); !bytes.Equal(got, f.Data) {
						t.Errorf("%s = %q, want %q", f.Path, got, f.Data)
					}
					if got := modeOf(t, p); got != f.Mode {
						t.Errorf("%s mode = %v, want %v", f.Path, got, f.Mode)
					}
				}
				if mm, err := Verify(dir, res.Manifest); err != nil || len(mm) != 0 {
					t.Errorf("Verify after Write = %v, %v", mm, err)
				}
				return
			}

			if err == nil {
				t.Fatal("Write succeeded, want a conflict")
			}
			if d := diffSnapshots(before, snapshot(t, dir)); d != "" {
				t.Errorf("refused Write changed the tree:\n%s", d)
			}
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *ConflictError", err, err)
			}
			var got []string
			for _, c := range ce.Conflicts {
				got = append(got, c.Path)
			}
			if !slices.Equal(got, tt.wantPaths) {
				t.Errorf("conflicts = %q, want %q", got, tt.wantPaths)
			}
			if errors.Is(err, ErrExists) != tt.wantExists {
				t.Errorf("errors.Is(err, ErrExists) = %v, want %v", !tt.wantExists, tt.wantExists)
			}
			if errors.Is(err, ErrKeyExists) != tt.wantKeyExists {
				t.Errorf("errors.Is(err, ErrKeyExists) = %v, want %v", !tt.wantKeyExists, tt.wantKeyExists)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "bundle: ") {
				t.Errorf("message does not start with \"bundle: \": %s", msg)
			}
			for _, p := range tt.wantPaths {
				if !strings.Contains(msg, "\n  "+p+": ") {
					t.Errorf("message does not list %s:\n%s", p, msg)
				}
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
			for _, s := range tt.notInMsg {
				if strings.Contains(msg, s) {
					t.Errorf("message has %q:\n%s", s, msg)
				}
			}
		})
	}
}

// TestWriteExclusive checks that a file appearing between the conflict
// check and the write (another process) is not overwritten: O_EXCL fails,
// and the run undoes itself.
func TestWriteExclusive(t *testing.T) {
	dir := t.TempDir()
	const raced = "dns/example.com.zone"
	setHook(t, func(dir, rel string) error {
		if rel != raced {
			return nil
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte("someone else's\n"), 0o644)
	})
	_, err := Write(dir, sampleManifest(), sampleFiles(), Options{Force: true})
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Write = %v, want fs.ErrExist", err)
	}
	want := map[string]string{
		".":                    "drwxr-xr-x",
		"dns":                  "drwxr-xr-x",
		"dns/example.com.zone": "-rw-r--r-- someone else's\n",
	}
	got := snapshot(t, dir)
	got["."] = want["."] // t.TempDir's own mode is not ours to check
	if d := diffSnapshots(want, got); d != "" {
		t.Errorf("after the race:\n%s", d)
	}
}

func TestWriteRollback(t *testing.T) {
	errInjected := errors.New("injected failure")
	failAt := func(at string) func(dir, rel string) error {
		return func(dir, rel string) error {
			if rel == at {
				return errInjected
			}
			return nil
		}
	}
	// collide makes a regular file where Write is about to need the
	// directory "opendkim": a real mkdir failure.
	collide := func(dir, rel string) error {
		if strings.HasPrefix(rel, "opendkim/") {
			return os.WriteFile(filepath.Join(dir, "opendkim"), []byte("in the way\n"), 0o644)
		}
		return nil
	}
	prepare := func(t *testing.T, dir string) {
		// A bundle from an older version, with an edited README and no
		// opendkim/ yet.
		old := sampleManifest()
		old.SendreadyVersion = "0.9"
		if _, err := Write(dir, old, sampleFiles(), Options{}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"opendkim", "office365"} {
			if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("hand edit\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, "README.md"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		fresh   bool // write to a missing dir under a missing parent
		hook    func(dir, rel string) error
		wantErr error
		ignore  string // left behind by the hook itself
	}{
		{name: "fresh dir, fails at the manifest", fresh: true, hook: failAt(ManifestName), wantErr: errInjected},
		{name: "fresh dir, fails at the first file", fresh: true, hook: failAt("README.md"), wantErr: errInjected},
		{name: "fresh dir, directory collides with a file", fresh: true, hook: collide, wantErr: fs.ErrExist, ignore: "opendkim"},
		{name: "existing dir, fails at the manifest", hook: failAt(ManifestName), wantErr: errInjected},
		{name: "existing dir, directory collides with a file", hook: collide, wantErr: fs.ErrExist, ignore: "opendkim"},
		{name: "existing dir, fails inside a new directory", hook: failAt("opendkim/keys/example.com/s1.private"), wantErr: errInjected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, "out")
			if tt.fresh {
				dir = filepath.Join(base, "missing", "out")
			} else {
				prepare(t, dir)
			}
			before := snapshot(t, base)
			setHook(t, tt.hook)

			_, err := Write(dir, sampleManifest(), sampleFiles(), Options{Force: true})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Write = %v, want %v", err, tt.wantErr)
			}
			after := snapshot(t, base)
			if tt.ignore != "" {
				rel := filepath.ToSlash(filepath.Join(strings.TrimPrefix(dir, base+string(filepath.Separator)), tt.ignore))
				delete(after, rel)
				if tt.fresh {
					// The hook's file keeps out/ (and missing/) from being
					// removed; everything Write made inside is gone, and
					// the error says the cleanup was incomplete.
					for _, p := range []string{"missing", "missing/out"} {
						if !strings.HasPrefix(after[p], "d") {
							t.Errorf("%s: %q, want a directory", p, after[p])
						}
						delete(after, p)
					}
					if !strings.Contains(err.Error(), "cleaning up") {
						t.Errorf("error does not report the incomplete cleanup: %v", err)
					}
				}
			}
			if d := diffSnapshots(before, after); d != "" {
				t.Errorf("failed Write left changes:\n%s", d)
			}
		})
	}
}

func TestWriteInvalid(t *testing.T) {
	file := func(p string) generators.File { return generators.File{Path: p, Mode: 0o644, Data: []byte("x")} }
	tests := []struct {
		name    string
		root    string
		files   []generators.File
		wantErr error
	}{
		{"parent reference", "/", []generators.File{file("../etc/passwd")}, ErrInvalidFile},
		{"inner parent reference", "/", []generators.File{file("postfix/../../x")}, ErrInvalidFile},
		{"absolute", "/", []generators.File{file("/etc/passwd")}, ErrInvalidFile},
		{"empty element", "/", []generators.File{file("postfix//main.cf")}, ErrInvalidFile},
		{"dot", "/", []generators.File{file(".")}, ErrInvalidFile},
		{"empty", "/", []generators.File{file("")}, ErrInvalidFile},
		{"backslash", "/", []generators.File{file(`postfix\main.cf`)}, ErrInvalidFile},
		{"manifest name", "/", []generators.File{file(ManifestName)}, ErrInvalidFile},
		{"duplicate", "/", []generators.File{file("a"), file("a")}, ErrInvalidFile},
		{"file and directory", "/", []generators.File{file("a"), file("a/b")}, ErrInvalidFile},
		{"no mode", "/", []generators.File{{Path: "a", Data: []byte("x")}}, ErrInvalidFile},
		{"directory mode", "/", []generators.File{{Path: "a", Mode: fs.ModeDir | 0o755}}, ErrInvalidFile},
		{"setuid", "/", []generators.File{{Path: "a", Mode: fs.ModeSetuid | 0o755}}, ErrInvalidFile},
		{"relative target", "/", []generators.File{{Path: "a", Mode: 0o644, Target: "etc/a"}}, ErrInvalidFile},
		{"unclean target", "/", []generators.File{{Path: "a", Mode: 0o644, Target: "/etc/../a"}}, ErrInvalidFile},
		{"target outside root", "/srv/x", []generators.File{{Path: "a", Mode: 0o644, Target: "/etc/a"}}, ErrInvalidFile},
		{"target is root", "/srv/x", []generators.File{{Path: "a", Mode: 0o644, Target: "/srv/x"}}, ErrInvalidFile},
		{"target beside root", "/srv/x", []generators.File{{Path: "a", Mode: 0o644, Target: "/srv/xy/a"}}, ErrInvalidFile},
		{"relative root", "srv", []generators.File{file("a")}, ErrInvalidManifest},
		{"empty root", "", []generators.File{file("a")}, ErrInvalidManifest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			m := sampleManifest()
			m.Root = tt.root
			_, err := Write(dir, m, tt.files, Options{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Write = %v, want %v", err, tt.wantErr)
			}
			if _, err := os.Lstat(dir); !os.IsNotExist(err) {
				t.Errorf("invalid Write created %s", dir)
			}
			if err := WriteTar(&bytes.Buffer{}, m, tt.files, true, testMtime); !errors.Is(err, tt.wantErr) {
				t.Errorf("WriteTar = %v, want %v", err, tt.wantErr)
			}
		})
	}
	t.Run("target under root", func(t *testing.T) {
		m := sampleManifest()
		m.Root = "/srv/x"
		files := []generators.File{{Path: "a", Mode: 0o644, Target: "/srv/x/etc/a"}}
		if _, err := Write(t.TempDir(), m, files, Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestManifestGolden(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir, sampleFiles(), Options{})
	got, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	goldenfile.Assert(t, goldenfile.Path(t), got)
}
