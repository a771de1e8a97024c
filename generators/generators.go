// Package generators turns validated answers and public keys into the
// contents of every bundle file. It is pure: no file I/O, clock,
// environment or randomness. Each area has its own sub-package (postfix,
// opendkim, dnszone, office365, guide); package generate assembles them.
package generators

import (
	"crypto"
	"io/fs"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/layout"
)

// Input is everything the generators read.
type Input struct {
	// Answers are validated, with defaults applied.
	Answers *answers.Answers
	// Keys holds the public key of every signer, by Signer.KeyName()
	// (<selector>._domainkey.<domain>): *rsa.PublicKey or ed25519.PublicKey.
	Keys map[string]crypto.PublicKey
	// Layout gives system paths (already under the --root prefix).
	Layout layout.Layout
	// Version is the sendready version recorded in generated files.
	Version string
	// SASLPassword is the relay password for sasl_passwd; empty writes a
	// clearly marked placeholder.
	SASLPassword string
}

// File is one generated bundle file.
type File struct {
	// Path is bundle-relative, slash-separated: "postfix/main.cf.snippet".
	Path string
	// Target is where apply installs the file (absolute, under the root),
	// or "" for files that are read, not installed (README, dns/...).
	Target string
	Mode   fs.FileMode
	Data   []byte
	// Secret files (sasl_passwd) go into a tar only with --include-secrets.
	Secret bool
}

// Placeholder marks a secret the admin still has to fill in.
const Placeholder = "CHANGE-ME-sendready-placeholder"
