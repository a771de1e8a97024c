package bundle

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sendready/sendready/generators"
)

// Options control Write.
type Options struct {
	// Force replaces existing files whose content or mode differs from the
	// bundle's. It never replaces a DKIM private key whose bytes differ,
	// nor anything that is not a regular file.
	Force bool
}

// Result says what Write did. Paths are bundle-relative, in the order they
// were written (sorted, bundle.json last), and include bundle.json.
type Result struct {
	// Dir is the bundle directory as passed to Write.
	Dir string
	// Manifest is what bundle.json now holds.
	Manifest  Manifest
	Created   []string
	Replaced  []string
	Unchanged []string
}

// Changed reports whether Write created or replaced anything.
func (r Result) Changed() bool { return len(r.Created)+len(r.Replaced) > 0 }

// Summary is a one-line account for a person: "wrote 14 files (2
// replaced), 3 unchanged", or "no changes: 17 files already up to date".
func (r Result) Summary() string {
	if !r.Changed() {
		return fmt.Sprintf("no changes: %s already up to date", plural(len(r.Unchanged), "file"))
	}
	s := "wrote " + plural(len(r.Created)+len(r.Replaced), "file")
	if len(r.Replaced) > 0 {
		s += fmt.Sprintf(" (%d replaced)", len(r.Replaced))
	}
	if len(r.Unchanged) > 0 {
		s += fmt.Sprintf(", %d unchanged", len(r.Unchanged))
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ConflictKind says why an existing path stops Write.
type ConflictKind int

const (
	// Differs: a regular file exists with other content or mode.
	// Options.Force replaces it.
	Differs ConflictKind = iota
	// KeyDiffers: a DKIM private key exists with other bytes. It is never
	// replaced.
	KeyDiffers
	// Blocked: the path is not a regular file (a directory, a symlink), or
	// one of its parents is not a directory. Write never removes these.
	Blocked
)

// Conflict is one existing path that stops Write.
type Conflict struct {
	// Path is bundle-relative.
	Path string
	Kind ConflictKind
	// Reason is for a person: "content differs", "mode is 0600, want 0644".
	Reason string
}

// ConflictError lists every path that stops Write. Nothing was written. It
// matches ErrKeyExists if any conflict is a KeyDiffers, and ErrExists if
// any is not.
type ConflictError struct {
	// Dir is the bundle directory.
	Dir string
	// Force is the refused run's Options.Force. With it, only KeyDiffers
	// and Blocked conflicts are listed.
	Force     bool
	Conflicts []Conflict
}

// Error lists each conflict on its own line, then what to do.
func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bundle: nothing was written to %s; these existing files are in the way:", e.Dir)
	have := map[ConflictKind]bool{}
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "\n  %s: %s", c.Path, c.Reason)
		have[c.Kind] = true
	}
	if have[Differs] {
		b.WriteString("\nto replace the files that differ, rerun with --force (DKIM private keys are kept), or write the bundle to a different --out directory")
	}
	if have[KeyDiffers] {
		b.WriteString("\na DKIM private key is never replaced, not even with --force: replacing it is key rotation, not regeneration," +
			" and would break signing until DNS is updated; write the bundle to a different --out directory," +
			" or, to rotate on purpose, publish the new key under a new selector and move the old key away yourself")
	}
	if have[Blocked] {
		b.WriteString("\nsendready does not remove directories or symlinks: move them away, or write the bundle to a different --out directory")
	}
	return b.String()
}

// Unwrap returns ErrExists and/or ErrKeyExists.
func (e *ConflictError) Unwrap() []error {
	var errs []error
	for _, k := range []ConflictKind{Differs, Blocked} {
		if e.has(k) {
			errs = append(errs, ErrExists)
			break
		}
	}
	if e.has(KeyDiffers) {
		errs = append(errs, ErrKeyExists)
	}
	return errs
}

func (e *ConflictError) has(k ConflictKind) bool {
	for _, c := range e.Conflicts {
		if c.Kind == k {
			return true
		}
	}
	return false
}

// testHookBeforeWrite, when set by a test, runs before each file is
// created or replaced; an error fails the run there.
var testHookBeforeWrite func(dir, rel string) error

// Write writes files and their manifest m (with Files filled in from files)
// into dir, creating dir and any missing parents 0755. Directories inside
// the bundle are 0755, except opendkim/keys and below, 0750. Modes are
// exact whatever the umask.
//
// A file that does not exist is created with O_EXCL and its final mode,
// then written and synced. One that exists with the same bytes and mode is
// left alone and reported unchanged. One that differs is refused unless
// opts.Force is set, in which case it is replaced atomically (a temporary
// file in the same directory, created with the final mode, renamed over
// it). A DKIM private key whose bytes differ is never replaced. All
// conflicts are found before anything is written, and reported together
// as a *ConflictError.
//
// bundle.json is written last and, being derived from the other files, is
// replaced whenever it differs, with or without Force.
//
// If anything fails part-way, Write removes every file and directory it
// created, puts back the bytes and mode of every file it replaced, and
// returns the error (joined with any error from that cleanup). Existing
// directories are never changed, even if their mode differs.
func Write(dir string, m Manifest, files []generators.File, opts Options) (Result, error) {
	sorted, m, err := prepare(m, files, func(generators.File) bool { return true })
	if err != nil {
		return Result{}, err
	}
	mdata, err := Encode(m)
	if err != nil {
		return Result{}, err
	}
	sorted = append(sorted, generators.File{Path: ManifestName, Mode: 0o644, Data: mdata})

	w := &writer{dir: dir, dirs: map[string]dirState{".": dirExists}}
	res, err := w.write(sorted, opts)
	if err != nil {
		if rerr := w.rollback(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("cleaning up after the failure in %s: %w", dir, rerr))
		}
		return Result{}, err
	}
	if err := w.root.Close(); err != nil {
		return Result{}, fmt.Errorf("closing %s: %w", dir, err)
	}
	res.Dir = dir
	res.Manifest = m
	return res, nil
}

type dirState int

const (
	dirUnknown dirState = iota
	dirExists
	dirMissing
	dirBlocked
)

type action int

const (
	create action = iota
	replace
	unchanged
)

type step struct {
	generators.File
	act action
}

// writer holds one Write run: the opened bundle root and how to undo what
// the run did so far.
type writer struct {
	dir  string
	root *os.Root
	// dirs records bundle-relative directories: whether they exist
	// (checked or created by this run) or are missing.
	dirs map[string]dirState
	// undo holds the inverse of each change inside root, in order.
	undo []func() error
	// outer lists directories created above and including dir, in order.
	outer []string
	// synced lists bundle-relative directories whose entries changed.
	synced map[string]bool
}

func (w *writer) write(files []generators.File, opts Options) (Result, error) {
	if err := w.mkdirOuter(); err != nil {
		return Result{}, err
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return Result{}, fmt.Errorf("opening bundle directory: %w", err)
	}
	w.root = root

	steps, conflicts, err := w.plan(files, opts.Force)
	if err != nil {
		return Result{}, err
	}
	if len(conflicts) > 0 {
		return Result{}, &ConflictError{Dir: w.dir, Force: opts.Force, Conflicts: conflicts}
	}

	var res Result
	w.synced = map[string]bool{}
	for _, s := range steps {
		if s.act == unchanged {
			res.Unchanged = append(res.Unchanged, s.Path)
			continue
		}
		if testHookBeforeWrite != nil {
			if err := testHookBeforeWrite(w.dir, s.Path); err != nil {
				return Result{}, err
			}
		}
		if err := w.mkdirParents(s.Path); err != nil {
			return Result{}, err
		}
		switch s.act {
		case create:
			err = w.create(s.File)
			res.Created = append(res.Created, s.Path)
		case replace:
			err = w.replace(s.File)
			res.Replaced = append(res.Replaced, s.Path)
		}
		if err != nil {
			return Result{}, err
		}
		w.synced[path.Dir(s.Path)] = true
	}
	for d := range w.synced {
		if err := w.syncDir(d); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// plan decides, without changing anything, what to do with each file, and
// collects every conflict.
func (w *writer) plan(files []generators.File, force bool) ([]step, []Conflict, error) {
	var steps []step
	var conflicts []Conflict
	for _, f := range files {
		blocked, err := w.checkParents(f.Path)
		if err != nil {
			return nil, nil, err
		}
		if blocked != "" {
			conflicts = append(conflicts, Conflict{Path: f.Path, Kind: Blocked,
				Reason: fmt.Sprintf("%s is not a directory", blocked)})
			continue
		}
		if w.dirs[path.Dir(f.Path)] == dirMissing {
			steps = append(steps, step{f, create})
			continue
		}
		fi, err := w.root.Lstat(filepath.FromSlash(f.Path))
		if errors.Is(err, fs.ErrNotExist) {
			steps = append(steps, step{f, create})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("checking %s: %w", f.Path, err)
		}
		if !fi.Mode().IsRegular() {
			conflicts = append(conflicts, Conflict{Path: f.Path, Kind: Blocked,
				Reason: "is a " + typeName(fi.Mode()) + ", not a regular file"})
			continue
		}
		old, err := w.root.ReadFile(filepath.FromSlash(f.Path))
		if err != nil {
			return nil, nil, fmt.Errorf("reading existing %s: %w", f.Path, err)
		}
		oldMode := fileMode(fi)
		sameData, sameMode := bytes.Equal(old, f.Data), oldMode == f.Mode
		switch {
		case sameData && sameMode:
			steps = append(steps, step{f, unchanged})
		case f.Path == ManifestName:
			steps = append(steps, step{f, replace})
		case IsPrivateKey(f.Path) && !sameData:
			conflicts = append(conflicts, Conflict{Path: f.Path, Kind: KeyDiffers,
				Reason: "a different private key already exists"})
		case force:
			steps = append(steps, step{f, replace})
		default:
			var why []string
			if !sameData {
				why = append(why, "content differs")
			}
			if !sameMode {
				why = append(why, fmt.Sprintf("mode is %s, want %s", Mode(oldMode), Mode(f.Mode)))
			}
			conflicts = append(conflicts, Conflict{Path: f.Path, Kind: Differs, Reason: strings.Join(why, "; ")})
		}
	}
	return steps, conflicts, nil
}

// checkParents records the state of each parent directory of rel and
// returns the first one that exists but is not a directory.
func (w *writer) checkParents(rel string) (blocked string, err error) {
	for _, d := range parents(rel) {
		switch w.dirs[d] {
		case dirExists:
			continue
		case dirMissing:
			return "", nil
		case dirBlocked:
			return d, nil
		}
		fi, err := w.root.Lstat(filepath.FromSlash(d))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			w.dirs[d] = dirMissing
			return "", nil
		case err != nil:
			return "", fmt.Errorf("checking %s: %w", d, err)
		case !fi.IsDir():
			w.dirs[d] = dirBlocked
			return d, nil
		}
		w.dirs[d] = dirExists
	}
	return "", nil
}

// parents returns the parent directories of rel, outermost first:
// "a/b/c" gives "a", "a/b".
func parents(rel string) []string {
	var ds []string
	for i, c := range rel {
		if c == '/' {
			ds = append(ds, rel[:i])
		}
	}
	return ds
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "special file"
	}
}

// fileMode is the permission (and setuid/setgid/sticky) bits of fi.
func fileMode(fi fs.FileInfo) fs.FileMode {
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// mkdirOuter creates dir and any missing parents, 0755, recording each.
func (w *writer) mkdirOuter() error {
	var missing []string
	for d := filepath.Clean(w.dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("creating bundle directory %s: %s is not a directory", w.dir, d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("creating bundle directory %s: %w", w.dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("creating bundle directory %s: %w", w.dir, err)
		}
		w.outer = append(w.outer, d)
		if err := chmodDir(func() (*os.File, error) { return os.Open(d) }, 0o755); err != nil {
			return fmt.Errorf("creating bundle directory %s: %w", w.dir, err)
		}
	}
	return nil
}

// mkdirParents creates the missing parent directories of rel.
func (w *writer) mkdirParents(rel string) error {
	for _, d := range parents(rel) {
		if w.dirs[d] == dirExists {
			continue
		}
		local, mode := filepath.FromSlash(d), dirMode(d)
		if err := w.root.Mkdir(local, mode); err != nil {
			return fmt.Errorf("creating directory %s: %w", d, err)
		}
		w.dirs[d] = dirExists
		w.undo = append(w.undo, func() error { return w.root.Remove(local) })
		w.synced[path.Dir(d)] = true
		if err := chmodDir(func() (*os.File, error) { return w.root.Open(local) }, mode); err != nil {
			return fmt.Errorf("creating directory %s: %w", d, err)
		}
	}
	return nil
}

// chmodDir sets the mode of a just-created directory if the umask changed
// it, through a descriptor rather than by name.
func chmodDir(open func() (*os.File, error), mode fs.FileMode) error {
	f, err := open()
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fileMode(fi) != mode {
		return f.Chmod(mode)
	}
	return nil
}

// create makes a new file with O_EXCL and writes it.
func (w *writer) create(f generators.File) error {
	local := filepath.FromSlash(f.Path)
	fh, err := w.root.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode)
	if err != nil {
		return fmt.Errorf("creating %s: %w", f.Path, err)
	}
	w.undo = append(w.undo, func() error { return w.root.Remove(local) })
	if err := fill(fh, f.Mode, f.Data); err != nil {
		return fmt.Errorf("writing %s: %w", f.Path, err)
	}
	return nil
}

// replace atomically replaces an existing file, remembering its old bytes
// and mode so that rollback can put them back.
func (w *writer) replace(f generators.File) error {
	local := filepath.FromSlash(f.Path)
	fi, err := w.root.Lstat(local)
	if err != nil {
		return fmt.Errorf("replacing %s: %w", f.Path, err)
	}
	old, err := w.root.ReadFile(local)
	if err != nil {
		return fmt.Errorf("replacing %s: %w", f.Path, err)
	}
	oldMode := fileMode(fi)
	if err := w.swap(local, f.Mode, f.Data); err != nil {
		return fmt.Errorf("replacing %s: %w", f.Path, err)
	}
	w.undo = append(w.undo, func() error { return w.swap(local, oldMode, old) })
	return nil
}

// swap writes data to a temporary file next to local, created with mode,
// and renames it over local.
func (w *writer) swap(local string, mode fs.FileMode, data []byte) error {
	dir, base := filepath.Split(local)
	var (
		tmp string
		fh  *os.File
		err error
	)
	for range 10 {
		tmp = filepath.Join(dir, "."+base+".sendready-"+rand.Text()[:10])
		fh, err = w.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	if err := fill(fh, mode, data); err != nil {
		_ = w.root.Remove(tmp)
		return err
	}
	if err := w.root.Rename(tmp, local); err != nil {
		_ = w.root.Remove(tmp)
		return err
	}
	return nil
}

// fill sets the mode of a just-created file if the umask changed it, then
// writes data, syncs and closes. It closes f in every case.
func fill(f *os.File, mode fs.FileMode, data []byte) error {
	fi, err := f.Stat()
	if err == nil && fileMode(fi) != mode {
		err = f.Chmod(mode)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the entries of a bundle-relative directory durable.
// Filesystems that cannot sync a directory are not an error.
func (w *writer) syncDir(rel string) error {
	f, err := w.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", rel, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("syncing directory %s: %w", rel, err)
	}
	return nil
}

// rollback undoes this run's changes, newest first, and closes the root.
func (w *writer) rollback() error {
	var errs []error
	for i := len(w.undo) - 1; i >= 0; i-- {
		if err := w.undo[i](); err != nil {
			errs = append(errs, err)
		}
	}
	if w.root != nil {
		if err := w.root.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	for i := len(w.outer) - 1; i >= 0; i-- {
		if err := os.Remove(w.outer[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
