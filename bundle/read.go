package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Read reads and checks dir/bundle.json (see Decode).
func Read(dir string) (Manifest, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("opening bundle %s: %w", dir, err)
	}
	defer root.Close()
	data, err := root.ReadFile(ManifestName)
	if err != nil {
		return Manifest{}, fmt.Errorf("reading %s (is %s a bundle made by sendready generate?): %w",
			filepath.Join(dir, ManifestName), dir, err)
	}
	m, err := Decode(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("reading %s: %w", filepath.Join(dir, ManifestName), err)
	}
	return m, nil
}

// Problem says how a bundle file differs from its manifest entry.
type Problem int

const (
	// Missing: the file is not there.
	Missing Problem = iota
	// NotRegular: something other than a regular file is there (a
	// directory, a symlink).
	NotRegular
	// Modified: the bytes (edited by hand), the mode, or both differ.
	Modified
)

// Mismatch is one file of a bundle that no longer matches its manifest.
type Mismatch struct {
	// Path is bundle-relative.
	Path    string
	Problem Problem
	// WantSHA256 and WantMode come from the manifest; GotSHA256 and
	// GotMode from disk (set only for Modified).
	WantSHA256, GotSHA256 string
	WantMode, GotMode     Mode
}

// String describes the mismatch for a person.
func (m Mismatch) String() string {
	switch m.Problem {
	case Missing:
		return m.Path + ": missing"
	case NotRegular:
		return m.Path + ": not a regular file"
	}
	var why []string
	if m.GotSHA256 != m.WantSHA256 {
		why = append(why, "content changed since it was generated (edited by hand?)")
	}
	if m.GotMode != m.WantMode {
		why = append(why, fmt.Sprintf("mode is %s, want %s", m.GotMode, m.WantMode))
	}
	return m.Path + ": " + strings.Join(why, "; ")
}

// Verify compares every file listed in m with what is in dir now and
// returns those whose bytes or mode differ, or that are missing, in
// manifest order. Symlinks are not followed: a symlink is NotRegular.
// Files in dir that m does not list are not looked at. The error is for m
// being invalid or dir being unreadable, not for mismatches.
func Verify(dir string, m Manifest) ([]Mismatch, error) {
	if err := checkManifest(m); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening bundle %s: %w", dir, err)
	}
	defer root.Close()
	var out []Mismatch
	for _, f := range m.Files {
		mm := Mismatch{Path: f.Path, WantSHA256: f.SHA256, WantMode: f.Mode}
		local := filepath.FromSlash(f.Path)
		fi, err := root.Lstat(local)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			mm.Problem = Missing
			out = append(out, mm)
			continue
		case err != nil:
			return nil, fmt.Errorf("checking %s: %w", f.Path, err)
		case !fi.Mode().IsRegular():
			mm.Problem = NotRegular
			out = append(out, mm)
			continue
		}
		data, err := root.ReadFile(local)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Path, err)
		}
		sum := sha256.Sum256(data)
		mm.Problem = Modified
		mm.GotSHA256 = hex.EncodeToString(sum[:])
		mm.GotMode = Mode(fileMode(fi))
		if mm.GotSHA256 != mm.WantSHA256 || mm.GotMode != mm.WantMode {
			out = append(out, mm)
		}
	}
	return out, nil
}
