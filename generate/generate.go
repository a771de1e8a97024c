// Package generate runs the whole generation: it loads or creates the DKIM
// keys, renders every bundle file and writes the bundle. The generate
// command and the wizard both call Run.
package generate

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/generators/dnszone"
	"github.com/sendready/sendready/generators/guide"
	"github.com/sendready/sendready/generators/office365"
	"github.com/sendready/sendready/generators/opendkim"
	"github.com/sendready/sendready/generators/postfix"
	"github.com/sendready/sendready/layout"
)

// ErrKeys reports a DKIM key problem in the answers or the output (exit 2).
var ErrKeys = errors.New("generate: DKIM keys")

// Options says what to generate and where.
type Options struct {
	// Answers are validated, with defaults applied.
	Answers *answers.Answers
	// Out is the bundle directory.
	Out string
	// Root prefixes every absolute path inside generated files ("/" by default).
	Root string
	// SASLPassword is written to postfix/sasl_passwd (0600); empty: a placeholder.
	SASLPassword string
	// Force replaces files that differ (never private keys).
	Force bool
	// Version is recorded in bundle.json.
	Version string
	// Rand is the randomness for new keys (crypto/rand.Reader).
	Rand io.Reader
}

// Result tells what a run did.
type Result struct {
	Manifest bundle.Manifest
	Files    []generators.File // every file, keys included
	Write    bundle.Result
	NewKeys  []string // bundle paths of keys created by this run
}

// Render builds every bundle file without writing anything: existing keys in
// opts.Out are reused, missing ones are generated in memory.
func Render(opts Options) (bundle.Manifest, []generators.File, []string, error) {
	a := opts.Answers
	root := opts.Root
	if root == "" {
		root = "/"
	}
	in := generators.Input{
		Answers:      a,
		Keys:         map[string]crypto.PublicKey{},
		Layout:       layout.For(a.Server.Distro, root),
		Version:      opts.Version,
		SASLPassword: opts.SASLPassword,
	}
	var keyFiles []generators.File
	var created []string
	for i, d := range a.Domains {
		for _, s := range d.Signers() {
			if !s.External {
				continue
			}
			pub, err := dkimkeys.ParsePublic(d.DKIM.PublicKey)
			if err != nil {
				return bundle.Manifest{}, nil, nil, fmt.Errorf("%w: domains[%d].dkim.public_key: %v — paste the p= value of the signer's DKIM record, or its PEM public key", ErrKeys, i, err)
			}
			in.Keys[s.KeyName()] = pub
		}
	}
	for _, kf := range opendkim.KeyFiles(in) {
		s := kf.Signer
		path := filepath.Join(opts.Out, filepath.FromSlash(kf.BundlePath))
		var key crypto.Signer
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			key, err = dkimkeys.ParsePEM(data)
			if err != nil {
				return bundle.Manifest{}, nil, nil, fmt.Errorf("%w: %s: %v — move the file away to generate a new key", ErrKeys, path, err)
			}
			if msg := keyMismatch(key, s); msg != "" {
				return bundle.Manifest{}, nil, nil, fmt.Errorf("%w: %s holds %s, but the answers ask for %s; replacing a key is rotation: choose a new selector for the new key", ErrKeys, path, msg, describe(s))
			}
		case errors.Is(err, fs.ErrNotExist):
			key, err = dkimkeys.Generate(s.Algorithm, s.Bits, opts.Rand)
			if err != nil {
				return bundle.Manifest{}, nil, nil, fmt.Errorf("generating the key for %s: %w", s.KeyName(), err)
			}
			data, err = dkimkeys.MarshalPEM(key)
			if err != nil {
				return bundle.Manifest{}, nil, nil, err
			}
			created = append(created, kf.BundlePath)
		default:
			return bundle.Manifest{}, nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		in.Keys[s.KeyName()] = key.Public()
		keyFiles = append(keyFiles, generators.File{Path: kf.BundlePath, Target: kf.Target, Mode: 0o600, Data: data})
	}
	files, err := Files(in, keyFiles)
	if err != nil {
		return bundle.Manifest{}, nil, nil, err
	}
	m := bundle.Manifest{
		SendreadyVersion: opts.Version,
		Root:             root,
		Topology:         a.Relay.Mode,
		Hostname:         a.Server.Hostname,
		Distro:           a.Server.Distro,
	}
	return m, files, created, nil
}

// Run renders the bundle and writes it to opts.Out.
func Run(opts Options) (Result, error) {
	m, files, created, err := Render(opts)
	if err != nil {
		return Result{}, err
	}
	w, err := bundle.Write(opts.Out, m, files, bundle.Options{Force: opts.Force})
	if err != nil {
		return Result{}, err
	}
	return Result{Manifest: m, Files: files, Write: w, NewKeys: created}, nil
}

// ReuseSelectors fills each domain's missing selector with the one whose key
// already sits in out, so that re-running generate in a later month reuses
// the key instead of making a new selector. Call before Defaults.
func ReuseSelectors(a *answers.Answers, out string) {
	for i := range a.Domains {
		d := &a.Domains[i]
		if d.DKIM.Selector != "" || d.Name == "" {
			continue
		}
		dir := filepath.Join(out, "opendkim", "keys", strings.ToLower(strings.TrimSuffix(d.Name, ".")))
		matches, _ := filepath.Glob(filepath.Join(dir, "*.private"))
		var rsa []string
		for _, m := range matches {
			sel := strings.TrimSuffix(filepath.Base(m), ".private")
			if !strings.HasSuffix(sel, "-ed") {
				rsa = append(rsa, sel)
			}
		}
		if len(rsa) == 1 {
			d.DKIM.Selector = rsa[0]
		}
	}
}

// Now is the clock used for default selectors; tests replace it.
var Now = time.Now

func describe(s answers.Signer) string {
	if s.Algorithm == answers.AlgRSA {
		return fmt.Sprintf("an RSA %d-bit key", s.Bits)
	}
	return "an ed25519 key"
}

// keyMismatch describes k when it is not the key s asks for, or "".
func keyMismatch(k crypto.Signer, s answers.Signer) string {
	var have string
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		have = fmt.Sprintf("an RSA %d-bit key", pub.N.BitLen())
	case ed25519.PublicKey:
		have = "an ed25519 key"
	default:
		have = fmt.Sprintf("a %T", pub)
	}
	if have != describe(s) {
		return have
	}
	return ""
}

// Files renders every bundle file from in: the answers, Postfix, OpenDKIM,
// DNS, Office 365, then the README and install.sh that describe them all.
// keys are the private key files, added as they are.
func Files(in generators.Input, keys []generators.File) ([]generators.File, error) {
	ans, err := answers.Marshal(in.Answers)
	if err != nil {
		return nil, err
	}
	files := []generators.File{{Path: "answers.yaml", Mode: 0o644, Data: ans}}
	for _, gen := range []func(generators.Input) ([]generators.File, error){
		postfix.Files, opendkim.Files, dnszone.Files, office365.Files,
	} {
		f, err := gen(in)
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	files = append(files, keys...)
	g, err := guide.Files(in, files)
	if err != nil {
		return nil, err
	}
	return append(files, g...), nil
}

// PublicKeys returns the public key of every signer in a: from the bundle's
// private keys in dir, or the answers' public_key for external signers.
// With dir empty, local signers get no key (their records are checked for
// validity only).
func PublicKeys(a *answers.Answers, dir string) (map[string]crypto.PublicKey, error) {
	keys := map[string]crypto.PublicKey{}
	for i, d := range a.Domains {
		for _, s := range d.Signers() {
			if s.External {
				pub, err := dkimkeys.ParsePublic(d.DKIM.PublicKey)
				if err != nil {
					return nil, fmt.Errorf("%w: domains[%d].dkim.public_key: %v", ErrKeys, i, err)
				}
				keys[s.KeyName()] = pub
				continue
			}
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, "opendkim", "keys", s.Domain, s.Selector+".private")
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %v (generate the bundle first)", ErrKeys, err)
			}
			k, err := dkimkeys.ParsePEM(data)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrKeys, p, err)
			}
			keys[s.KeyName()] = k.Public()
		}
	}
	return keys, nil
}
