// Package bundle writes a generated bundle (Postfix, OpenDKIM and DNS files
// plus a bundle.json manifest) to a directory or a .tar.gz, reads the
// manifest back, and verifies that the files on disk still match it.
//
// Writing never overwrites silently: new files are created with O_EXCL and
// their final mode from the moment they exist, existing files that differ
// are refused unless Options.Force is set (and DKIM private keys are never
// replaced), and a run that fails part-way removes what it created and
// restores what it replaced.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sendready/sendready/generators"
)

// ManifestName is the bundle-relative name of the manifest. It is written
// last and never lists itself.
const ManifestName = "bundle.json"

// KeysDir is the bundle-relative directory holding DKIM private keys. It
// and every directory below it are created 0750; all others 0755.
const KeysDir = "opendkim/keys"

// Sentinel errors, matched with errors.Is.
var (
	// ErrExists reports bundle files that already exist with different
	// content or mode; Options.Force replaces them. The error is a
	// *ConflictError listing every such file.
	ErrExists = errors.New("bundle: files already exist with different content")
	// ErrKeyExists reports a DKIM private key that already exists with
	// different bytes. It is never replaced, even with Options.Force: that
	// would be key rotation, not regeneration.
	ErrKeyExists = errors.New("bundle: a different DKIM private key already exists")
	// ErrInvalidFile reports a generated file that cannot be written: a path
	// that is not a clean bundle-relative path, a duplicate, a missing mode.
	ErrInvalidFile = errors.New("bundle: invalid bundle file")
	// ErrInvalidManifest reports a manifest (bundle.json) that is malformed
	// or unsafe to act on.
	ErrInvalidManifest = errors.New("bundle: invalid manifest")
)

// Manifest is bundle.json: what generated the bundle, for which system, and
// the checksum and mode of every other file in it. Apply checks Root
// against --root and uses the checksums to detect hand edits.
type Manifest struct {
	SendreadyVersion string `json:"sendready_version"`
	// Root is the --root prefix every Target lies under ("/" for the real
	// system).
	Root     string `json:"root"`
	Topology string `json:"topology"`
	Hostname string `json:"hostname"`
	Distro   string `json:"distro"`
	// Files is sorted by Path. Write and WriteTar fill it from the files
	// they write; whatever the caller put there is ignored.
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one entry of Manifest.Files.
type ManifestFile struct {
	// Path is bundle-relative and slash-separated.
	Path string `json:"path"`
	// Target is the absolute install path, or "" for files that are only
	// read (README.md, dns/...).
	Target string `json:"target,omitempty"`
	Mode   Mode   `json:"mode"`
	// SHA256 is the lower-case hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	Secret bool   `json:"secret,omitempty"`
}

// Mode is a file's permission bits, encoded in JSON as a four-digit octal
// string such as "0644".
type Mode fs.FileMode

// String returns the mode as four octal digits, Unix style: "0600", or
// "4755" with setuid.
func (m Mode) String() string {
	fm := fs.FileMode(m)
	u := uint32(fm.Perm())
	for bit, v := range map[fs.FileMode]uint32{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
		if fm&bit != 0 {
			u |= v
		}
	}
	return fmt.Sprintf("%04o", u)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) {
	if err := checkMode(fs.FileMode(m)); err != nil {
		return nil, err
	}
	return []byte(m.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts exactly
// four octal digits with a leading 0 ("0644").
func (m *Mode) UnmarshalText(b []byte) error {
	s := string(b)
	v, err := strconv.ParseUint(s, 8, 32)
	if len(s) != 4 || s[0] != '0' || err != nil {
		return fmt.Errorf("mode %q: want four octal digits such as \"0644\"", s)
	}
	if err := checkMode(fs.FileMode(v)); err != nil {
		return err
	}
	*m = Mode(v)
	return nil
}

// checkMode accepts permission bits only, and not none of them.
func checkMode(m fs.FileMode) error {
	if m == 0 {
		return errors.New("mode is not set")
	}
	if m&^fs.ModePerm != 0 {
		return fmt.Errorf("mode %v has bits other than permissions", m)
	}
	return nil
}

// IsPrivateKey reports whether the bundle-relative path p is a DKIM private
// key (a *.private file under opendkim/keys/). Such files are never
// replaced by Write.
func IsPrivateKey(p string) bool {
	return strings.HasPrefix(p, KeysDir+"/") && strings.HasSuffix(p, ".private")
}

// dirMode is the mode of the bundle-relative directory d.
func dirMode(d string) fs.FileMode {
	if d == KeysDir || strings.HasPrefix(d, KeysDir+"/") {
		return 0o750
	}
	return 0o755
}

// Encode returns m as bundle.json: two-space indent, trailing newline. It
// fails with ErrInvalidManifest if m would not Decode.
func Encode(m Manifest) ([]byte, error) {
	if err := checkManifest(m); err != nil {
		return nil, err
	}
	if m.Files == nil {
		m.Files = []ManifestFile{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", ManifestName, err)
	}
	return buf.Bytes(), nil
}

// Decode parses bundle.json and checks that it is safe to act on: every
// path is a clean bundle-relative path listed once, every target is
// absolute and under Root, every mode and checksum well-formed. Unknown
// fields are ignored so that an older apply can read a newer bundle.
func Decode(data []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: parsing %s: %w", ErrInvalidManifest, ManifestName, err)
	}
	if err := checkManifest(m); err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// checkManifest validates m as Decode describes.
func checkManifest(m Manifest) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidManifest}, args...)...))
	}
	if err := checkRoot(m.Root); err != nil {
		bad("%v", err)
	}
	paths := make([]string, 0, len(m.Files))
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		if err := checkTarget(m.Root, f.Target); err != nil {
			bad("%s: %v", f.Path, err)
		}
		if err := checkMode(fs.FileMode(f.Mode)); err != nil {
			bad("%s: %v", f.Path, err)
		}
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(f.SHA256) != f.SHA256 {
			bad("%s: sha256 %q is not 64 lower-case hex digits", f.Path, f.SHA256)
		}
	}
	for _, err := range checkPaths(paths) {
		bad("%v", err)
	}
	return errors.Join(errs...)
}

// checkRoot accepts an absolute, clean path.
func checkRoot(root string) error {
	if !path.IsAbs(root) || path.Clean(root) != root {
		return fmt.Errorf("root %q is not an absolute, clean path", root)
	}
	return nil
}

// checkTarget accepts "" or an absolute, clean path strictly under root.
func checkTarget(root, target string) error {
	if target == "" {
		return nil
	}
	if !path.IsAbs(target) || path.Clean(target) != target {
		return fmt.Errorf("target %q is not an absolute, clean path", target)
	}
	under := strings.HasPrefix(target, root+"/")
	if root == "/" {
		under = target != "/"
	}
	if !under {
		return fmt.Errorf("target %q is not under root %q", target, root)
	}
	return nil
}

// checkPaths checks a set of bundle-relative paths: each clean, relative,
// slash-separated, not bundle.json, listed once, and none a directory of
// another.
func checkPaths(paths []string) []error {
	var errs []error
	seen := make(map[string]bool, len(paths))
	dirs := make(map[string]bool)
	for _, p := range paths {
		switch {
		case !fs.ValidPath(p) || p == "." || strings.Contains(p, `\`):
			errs = append(errs, fmt.Errorf("path %q is not a clean, relative, slash-separated path", p))
			continue
		case p == ManifestName:
			errs = append(errs, fmt.Errorf("path %q is reserved for the manifest", p))
			continue
		case seen[p]:
			errs = append(errs, fmt.Errorf("path %q is listed twice", p))
			continue
		}
		seen[p] = true
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	for _, p := range slices.Sorted(maps.Keys(seen)) {
		if dirs[p] {
			errs = append(errs, fmt.Errorf("path %q is both a file and a directory", p))
		}
	}
	return errs
}

// prepare validates files against m and returns them sorted by path,
// together with m whose Files lists those for which keep returns true.
func prepare(m Manifest, files []generators.File, keep func(generators.File) bool) ([]generators.File, Manifest, error) {
	var errs []error
	if err := checkRoot(m.Root); err != nil {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidManifest, err))
	}
	paths := make([]string, 0, len(files))
	for _, f := range files {
		paths = append(paths, f.Path)
		if err := checkMode(f.Mode); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidFile, f.Path, err))
		}
		if err := checkTarget(m.Root, f.Target); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidFile, f.Path, err))
		}
	}
	for _, err := range checkPaths(paths) {
		errs = append(errs, fmt.Errorf("%w: %w", ErrInvalidFile, err))
	}
	if len(errs) > 0 {
		return nil, Manifest{}, errors.Join(errs...)
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b generators.File) int { return strings.Compare(a.Path, b.Path) })
	m.Files = []ManifestFile{}
	for _, f := range sorted {
		if !keep(f) {
			continue
		}
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, ManifestFile{
			Path:   f.Path,
			Target: f.Target,
			Mode:   Mode(f.Mode),
			SHA256: hex.EncodeToString(sum[:]),
			Secret: f.Secret,
		})
	}
	return sorted, m, nil
}
