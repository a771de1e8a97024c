package apply

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// state is what a path holds: a regular file's bytes, mode and owner, or
// nothing.
type state struct {
	Exists   bool
	Data     []byte
	Mode     fs.FileMode // permission bits
	UID, GID int
}

// same reports whether s and o hold the same file (bytes, mode, owner).
func (s state) same(o state) bool {
	if s.Exists != o.Exists {
		return false
	}
	return !s.Exists || bytes.Equal(s.Data, o.Data) && s.Mode == o.Mode && s.UID == o.UID && s.GID == o.GID
}

// readState reads path without following a final symlink: a symlink or any
// other non-regular file is an error (apply never writes through links).
func readState(path string) (state, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return state{}, nil
	}
	if err != nil {
		return state{}, err
	}
	if !fi.Mode().IsRegular() {
		return state{}, fmt.Errorf("%s is not a regular file (%s); move it away first", path, fi.Mode().Type())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return state{}, err
	}
	st := state{Exists: true, Data: data, Mode: perm(fi.Mode())}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.UID, st.GID = int(sys.Uid), int(sys.Gid)
	}
	return st, nil
}

// perm keeps the permission bits and setuid/setgid/sticky.
func perm(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// writeAtomic puts st at path: a temp file in the same directory, created
// with the final mode (so a 0600 file is never readable by others), owned
// as st says, synced, then renamed over path; the directory is synced too.
func writeAtomic(path string, st state) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".sendready-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; set the final mode and owner before
	// any byte is written.
	if err := f.Chmod(st.Mode); err != nil {
		return fail(err)
	}
	if err := f.Chown(st.UID, st.GID); err != nil {
		return fail(err)
	}
	if _, err := f.Write(st.Data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// setState makes path hold st: written atomically, or removed when st
// does not exist.
func setState(path string, st state) error {
	if !st.Exists {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		return syncDir(filepath.Dir(path))
	}
	if _, err := os.Stat(filepath.Dir(path)); errors.Is(err, fs.ErrNotExist) {
		// A directory removed since (by a rollback): recreate it.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
	}
	return writeAtomic(path, st)
}

// dirState is a directory's mode and owner, or that it is missing.
type dirState struct {
	Exists   bool
	Mode     fs.FileMode
	UID, GID int
}

func readDirState(path string) (dirState, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return dirState{}, nil
	}
	if err != nil {
		return dirState{}, err
	}
	if !fi.IsDir() {
		return dirState{}, fmt.Errorf("%s is not a directory", path)
	}
	ds := dirState{Exists: true, Mode: perm(fi.Mode())}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		ds.UID, ds.GID = int(sys.Uid), int(sys.Gid)
	}
	return ds, nil
}

// setDirState creates or chmods/chowns a directory; a missing want removes
// the directory when it is empty (a directory made by an earlier run that
// now holds someone else's files stays).
func setDirState(path string, want dirState) error {
	if !want.Exists {
		err := os.Remove(path)
		if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return nil
		}
		return fmt.Errorf("removing directory %s: %w", path, err)
	}
	if err := os.Mkdir(path, want.Mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating directory %s: %w", path, err)
	}
	if err := os.Chmod(path, want.Mode); err != nil {
		return err
	}
	return os.Lchown(path, want.UID, want.GID)
}
