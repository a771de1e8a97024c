package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sendready/sendready/bundle"
)

// BackupManifestName is the file in each backup directory that lists what
// the run touched.
const BackupManifestName = "manifest.json"

// TimestampFormat names backup directories: UTC, e.g. 20261122T140000Z.
const TimestampFormat = "20060102T150405Z"

var timestampRE = regexp.MustCompile(`^\d{8}T\d{6}Z$`)

// backupManifest is <backup>/manifest.json.
type backupManifest struct {
	Version int    `json:"version"`
	Root    string `json:"root"`
	Time    string `json:"time"`
	Bundle  string `json:"bundle,omitempty"`
	// PostfixDir and OpenDKIMConfs are what rollback checks afterwards.
	PostfixDir    string   `json:"postfix_dir"`
	OpenDKIMConfs []string `json:"opendkim_confs,omitempty"`
	// Files are every file the run touched, in the order it touched them.
	Files []backupFile `json:"files"`
	// Dirs are directories the run created or whose mode/owner it changed.
	Dirs []backupDir `json:"dirs,omitempty"`
}

type backupFile struct {
	Path string `json:"path"` // absolute, under Root
	// Existed is false for files this run created: rollback removes them.
	Existed bool `json:"existed"`
	// Copy is the backup-relative path of the saved bytes.
	Copy   string      `json:"copy,omitempty"`
	Mode   bundle.Mode `json:"mode,omitempty"`
	UID    int         `json:"uid"`
	GID    int         `json:"gid"`
	SHA256 string      `json:"sha256,omitempty"`
}

type backupDir struct {
	Path    string      `json:"path"`
	Existed bool        `json:"existed"`
	Mode    bundle.Mode `json:"mode,omitempty"`
	UID     int         `json:"uid"`
	GID     int         `json:"gid"`
}

// makeBackup claims a new timestamp directory under base (never reusing
// one: the next free second is taken), saves every existing file of olds
// into it and writes the manifest last. olds maps path → state before.
func makeBackup(base string, now time.Time, m backupManifest, order []string, olds map[string]state, dirs []backupDir) (string, backupManifest, error) {
	// Missing parents (/var/backups in a fresh --root tree) get the usual
	// 0755: a 0700 <root>/var would lock daemons out of <root>/var/spool.
	// Only the backup directory itself, which holds keys, is private.
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return "", m, fmt.Errorf("creating %s: %w", filepath.Dir(base), err)
	}
	if err := os.Mkdir(base, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", m, fmt.Errorf("creating %s: %w", base, err)
	}
	var dir string
	t := now.UTC().Truncate(time.Second)
	for range 3600 {
		dir = filepath.Join(base, t.Format(TimestampFormat))
		err := os.Mkdir(dir, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", m, fmt.Errorf("creating backup directory: %w", err)
		}
		dir = ""
		t = t.Add(time.Second)
	}
	if dir == "" {
		return "", m, fmt.Errorf("no free backup directory name under %s", base)
	}
	m.Version = 1
	m.Time = filepath.Base(dir)
	m.Dirs = dirs
	for _, p := range order {
		st := olds[p]
		bf := backupFile{Path: p, Existed: st.Exists}
		if st.Exists {
			rel, err := filepath.Rel(m.Root, p)
			if err != nil || strings.HasPrefix(rel, "..") {
				rel = strings.TrimPrefix(p, "/")
			}
			bf.Copy = filepath.ToSlash(filepath.Join("files", rel))
			bf.Mode, bf.UID, bf.GID = bundle.Mode(st.Mode.Perm()), st.UID, st.GID
			sum := sha256.Sum256(st.Data)
			bf.SHA256 = hex.EncodeToString(sum[:])
			cp := filepath.Join(dir, filepath.FromSlash(bf.Copy))
			if err := os.MkdirAll(filepath.Dir(cp), 0o700); err != nil {
				return dir, m, err
			}
			if err := writeAtomic(cp, state{Exists: true, Data: st.Data, Mode: 0o600}); err != nil {
				return dir, m, fmt.Errorf("backing up %s: %w", p, err)
			}
		}
		m.Files = append(m.Files, bf)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return dir, m, err
	}
	if err := writeAtomic(filepath.Join(dir, BackupManifestName), state{Exists: true, Data: append(data, '\n'), Mode: 0o600}); err != nil {
		return dir, m, err
	}
	return dir, m, nil
}

// readBackup reads a backup directory's manifest and the saved bytes.
func readBackup(dir string) (backupManifest, map[string]state, error) {
	var m backupManifest
	data, err := os.ReadFile(filepath.Join(dir, BackupManifestName))
	if err != nil {
		return m, nil, fmt.Errorf("reading backup: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, BackupManifestName), err)
	}
	want := map[string]state{}
	for _, f := range m.Files {
		if !filepath.IsAbs(f.Path) || filepath.Clean(f.Path) != f.Path || !under(m.Root, f.Path) {
			return m, nil, fmt.Errorf("backup %s: path %q is not under root %s", dir, f.Path, m.Root)
		}
		if !f.Existed {
			want[f.Path] = state{}
			continue
		}
		if !fs.ValidPath(f.Copy) {
			return m, nil, fmt.Errorf("backup %s: bad copy path %q", dir, f.Copy)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Copy)))
		if err != nil {
			return m, nil, fmt.Errorf("backup %s is incomplete: %w", dir, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			return m, nil, fmt.Errorf("backup %s: the copy of %s does not match its checksum; refusing to restore it", dir, f.Path)
		}
		want[f.Path] = state{Exists: true, Data: b, Mode: fs.FileMode(f.Mode), UID: f.UID, GID: f.GID}
	}
	for _, d := range m.Dirs {
		if !filepath.IsAbs(d.Path) || !under(m.Root, d.Path) {
			return m, nil, fmt.Errorf("backup %s: directory %q is not under root %s", dir, d.Path, m.Root)
		}
	}
	return m, want, nil
}

func under(root, p string) bool {
	if root == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, root+"/")
}

// restoreAll puts every file of want back, then removes created
// directories (deepest first) and restores the others' mode and owner.
// It keeps going after an error and returns them all.
func restoreAll(order []string, want map[string]state, dirs []backupDir, touched func(string)) error {
	var errs []error
	for _, p := range order {
		cur, err := readState(p)
		if err == nil && cur.same(want[p]) {
			continue
		}
		if err := setState(p, want[p]); err != nil {
			errs = append(errs, err)
			continue
		}
		if touched != nil {
			touched(p)
		}
	}
	ds := slices.Clone(dirs)
	slices.SortFunc(ds, func(a, b backupDir) int { return len(b.Path) - len(a.Path) })
	for _, d := range ds {
		if err := setDirState(d.Path, dirState{Exists: d.Existed, Mode: fs.FileMode(d.Mode), UID: d.UID, GID: d.GID}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// backups lists the timestamp directories under base, oldest first.
func backups(base string) ([]string, error) {
	ents, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && timestampRE.MatchString(e.Name()) {
			if _, err := os.Stat(filepath.Join(base, e.Name(), BackupManifestName)); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
