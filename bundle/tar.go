package bundle

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/sendready/sendready/generators"
)

// WriteTar writes the bundle as a gzip-compressed tar to w: bundle.json
// first, then each file in path order, each preceded by any directory not
// yet written, with the same modes Write gives them (0750 for
// opendkim/keys and below). Entry names are bundle-relative ("postfix/",
// "postfix/main.cf.snippet") with no leading directory, so extract with
// `tar -xzf FILE -C DIR`.
//
// The output is deterministic: every entry has mtime (truncated to the
// second; the zero time means the Unix epoch), uid and gid 0 and owner
// root:root, and the gzip header carries no name or time.
//
// Secret files (the relay password) are included only if includeSecrets.
// When they are left out, bundle.json lists only what the tar holds, so
// the extracted bundle verifies cleanly and no checksum of the secret
// leaks; the admin then creates the secret file on the server by hand.
// DKIM private keys are not Secret and are always included: the bundle
// does not work without them.
func WriteTar(w io.Writer, m Manifest, files []generators.File, includeSecrets bool, mtime time.Time) error {
	keep := func(f generators.File) bool { return includeSecrets || !f.Secret }
	sorted, m, err := prepare(m, files, keep)
	if err != nil {
		return err
	}
	mdata, err := Encode(m)
	if err != nil {
		return err
	}
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	mtime = mtime.Truncate(time.Second).UTC()

	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	header := func(name string, typ byte, mode fs.FileMode, size int64) *tar.Header {
		return &tar.Header{
			Typeflag: typ,
			Name:     name,
			Mode:     int64(mode.Perm()),
			Size:     size,
			ModTime:  mtime,
			Uname:    "root",
			Gname:    "root",
		}
	}
	add := func(name string, mode fs.FileMode, data []byte) error {
		if err := tw.WriteHeader(header(name, tar.TypeReg, mode, int64(len(data)))); err != nil {
			return fmt.Errorf("writing %s to tar: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("writing %s to tar: %w", name, err)
		}
		return nil
	}

	if err := add(ManifestName, 0o644, mdata); err != nil {
		return err
	}
	written := map[string]bool{}
	for _, f := range sorted {
		if !keep(f) {
			continue
		}
		for _, d := range parents(f.Path) {
			if written[d] {
				continue
			}
			if err := tw.WriteHeader(header(d+"/", tar.TypeDir, dirMode(d), 0)); err != nil {
				return fmt.Errorf("writing %s/ to tar: %w", d, err)
			}
			written[d] = true
		}
		if err := add(f.Path, f.Mode, f.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("finishing gzip: %w", err)
	}
	return nil
}
