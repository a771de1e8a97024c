// Package dkimkeys generates, encodes, stores and loads DKIM private keys
// in the PEM forms OpenDKIM reads, and parses public keys given by an
// administrator.
//
// RSA keys are written as PKCS#1 "RSA PRIVATE KEY" (what opendkim-genkey
// writes); ed25519 keys as PKCS#8 "PRIVATE KEY" (read by OpenDKIM 2.11,
// which needs "SignatureAlgorithm ed25519-sha256" in the instance that
// signs with them). Key files are created 0600 and never overwritten.
package dkimkeys

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Algorithm names accepted by Generate and LoadOrCreate; they are also the
// k= values of the DKIM key record (RFC 6376 section 3.6.1, RFC 8463).
const (
	RSA     = "rsa"
	Ed25519 = "ed25519"
)

// RSASizes are the RSA key sizes Generate accepts, in bits.
var RSASizes = []int{1024, 2048, 3072, 4096}

// Sentinel errors, matched with errors.Is.
var (
	// ErrAlgorithm is returned for an algorithm other than "rsa" or "ed25519".
	ErrAlgorithm = errors.New("dkimkeys: unsupported algorithm")
	// ErrKeySize is returned for an RSA size not in RSASizes.
	ErrKeySize = errors.New("dkimkeys: unsupported RSA key size")
	// ErrKeyType is returned for a key that is neither RSA nor ed25519.
	ErrKeyType = errors.New("dkimkeys: unsupported key type")
	// ErrNoKey is returned when PEM data holds no private key block.
	ErrNoKey = errors.New("dkimkeys: no private key found")
	// ErrPublicKey is returned when a public key given by an administrator
	// cannot be read.
	ErrPublicKey = errors.New("dkimkeys: not a usable public key")
	// ErrRevoked is returned for a DKIM record with an empty p= tag, which
	// means the key was revoked (RFC 6376 section 3.6.1).
	ErrRevoked = errors.New("dkimkeys: key revoked (empty p=)")
	// ErrMismatch is returned by LoadOrCreate when the existing key is not
	// of the algorithm or size asked for.
	ErrMismatch = errors.New("dkimkeys: existing key does not match")
)

// checkParams validates an algorithm and RSA size.
func checkParams(algorithm string, bits int) error {
	switch algorithm {
	case RSA:
		for _, s := range RSASizes {
			if bits == s {
				return nil
			}
		}
		return fmt.Errorf("%w: %d (use one of 1024, 2048, 3072, 4096)", ErrKeySize, bits)
	case Ed25519:
		return nil
	}
	return fmt.Errorf("%w: %q (use %q or %q)", ErrAlgorithm, algorithm, RSA, Ed25519)
}

// Generate makes a new private key: algorithm "rsa" with bits 1024, 2048,
// 3072 or 4096, or "ed25519" (bits ignored). A nil rand means crypto/rand.
// Since Go 1.26 the RSA generator ignores rand and always uses a secure
// source (unless GODEBUG=cryptocustomrand=1); ed25519 keys are still
// derived from rand.
func Generate(algorithm string, bits int, rand io.Reader) (crypto.Signer, error) {
	if err := checkParams(algorithm, bits); err != nil {
		return nil, err
	}
	switch algorithm {
	case RSA:
		k, err := rsa.GenerateKey(rand, bits)
		if err != nil {
			return nil, fmt.Errorf("generating RSA key: %w", err)
		}
		return k, nil
	default:
		_, k, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, fmt.Errorf("generating ed25519 key: %w", err)
		}
		return k, nil
	}
}

// KeyType returns the algorithm ("rsa" or "ed25519") and, for RSA, the
// size in bits of a private or public key.
func KeyType(key any) (algorithm string, bits int, err error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return RSA, k.N.BitLen(), nil
	case *rsa.PublicKey:
		return RSA, k.N.BitLen(), nil
	case ed25519.PrivateKey, *ed25519.PrivateKey, ed25519.PublicKey, *ed25519.PublicKey:
		return Ed25519, 0, nil
	}
	return "", 0, fmt.Errorf("%w: %T", ErrKeyType, key)
}

// MarshalPEM encodes a private key for OpenDKIM: RSA as PKCS#1 "RSA
// PRIVATE KEY", ed25519 as PKCS#8 "PRIVATE KEY".
func MarshalPEM(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
	case ed25519.PrivateKey, *ed25519.PrivateKey:
		if p, ok := k.(*ed25519.PrivateKey); ok {
			k = *p
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encoding ed25519 key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	return nil, fmt.Errorf("%w: %T", ErrKeyType, key)
}

// ParsePEM reads the first private key in PEM data: PKCS#1 "RSA PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY" holding an RSA or ed25519 key. Other blocks
// before it (such as certificates) are skipped.
func ParsePEM(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: expected a PEM block \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"", ErrNoKey)
		}
		switch b.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: RSA PRIVATE KEY: %v", ErrNoKey, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PRIVATE KEY: %v", ErrNoKey, err)
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				return k, nil
			case ed25519.PrivateKey:
				return k, nil
			}
			return nil, fmt.Errorf("%w: %T in PRIVATE KEY (DKIM uses rsa or ed25519)", ErrKeyType, k)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: the key is encrypted; OpenDKIM needs it unencrypted", ErrNoKey)
		case "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY":
			return nil, fmt.Errorf("%w: %s (DKIM uses rsa or ed25519)", ErrKeyType, b.Type)
		}
	}
}

// PublicValue returns the p= value of the DKIM key record for pub (a
// public key, or a private key whose public half is meant): for RSA the
// base64 of the DER SubjectPublicKeyInfo (as opendkim-genkey writes), for
// ed25519 the base64 of the raw 32-byte key (RFC 8463), not its SPKI.
func PublicValue(pub any) (string, error) {
	if s, ok := pub.(crypto.Signer); ok {
		pub = s.Public()
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", fmt.Errorf("encoding RSA public key: %w", err)
		}
		return base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("%w: %T", ErrKeyType, pub)
}

// ParsePublic reads a public key given by an administrator: a PEM "PUBLIC
// KEY" (SubjectPublicKeyInfo) or "RSA PUBLIC KEY" (PKCS#1) block, or the
// base64 of a DKIM p= value — RSA as SubjectPublicKeyInfo or PKCS#1, or 32
// raw bytes for ed25519. The p= value may come alone, as "p=...", or as a
// whole record ("v=DKIM1; k=rsa; p=..."), and may be pasted from a zone
// file: when the input holds double quotes only the quoted strings count
// (so owner names, "IN TXT", parentheses and comments are dropped), and
// whitespace is ignored.
func ParsePublic(s string) (crypto.PublicKey, error) {
	if strings.Contains(s, "-----BEGIN") {
		return parsePublicPEM(s)
	}
	if strings.Contains(s, `"`) {
		s = quoted(s)
	}
	s = strings.Join(strings.Fields(s), "")
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrPublicKey)
	}
	keyType := ""
	if strings.Contains(s, ";") || hasTag(s) {
		tags := map[string]string{}
		for _, t := range strings.Split(s, ";") {
			name, value, ok := strings.Cut(t, "=")
			if !ok {
				if t != "" {
					return nil, fmt.Errorf("%w: %q is not a tag=value pair", ErrPublicKey, t)
				}
				continue
			}
			tags[strings.ToLower(name)] = value
		}
		p, ok := tags["p"]
		if !ok {
			return nil, fmt.Errorf("%w: record has no p= tag", ErrPublicKey)
		}
		if p == "" {
			return nil, ErrRevoked
		}
		keyType = strings.ToLower(tags["k"])
		if keyType != "" && keyType != RSA && keyType != Ed25519 {
			return nil, fmt.Errorf("%w: k=%s", ErrKeyType, keyType)
		}
		s = p
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if der2, err2 := base64.RawStdEncoding.DecodeString(s); err2 == nil {
			der, err = der2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: p= value is not base64: %v", ErrPublicKey, err)
	}
	var pub crypto.PublicKey
	if len(der) == ed25519.PublicKeySize {
		pub = ed25519.PublicKey(der)
	} else if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		pub = k
	} else if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		pub = k
	} else {
		return nil, fmt.Errorf("%w: %d bytes that are neither an RSA key (SubjectPublicKeyInfo or PKCS#1) nor a 32-byte ed25519 key", ErrPublicKey, len(der))
	}
	alg, _, err := KeyType(pub)
	if err != nil {
		return nil, err
	}
	if keyType != "" && alg != keyType {
		return nil, fmt.Errorf("%w: record says k=%s but p= holds an %s key", ErrPublicKey, keyType, alg)
	}
	return pub, nil
}

// hasTag reports whether s starts with a DKIM tag such as "p=" or "v=".
// Base64 never has "=" in its second position, so this cannot be a
// p= value alone.
func hasTag(s string) bool {
	name, _, ok := strings.Cut(s, "=")
	return ok && name != "" && len(name) <= 3
}

// quoted concatenates the contents of the double-quoted strings in s,
// handling \" and \\ escapes.
func quoted(s string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			in = !in
		case in && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case in:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// parsePublicPEM reads a "PUBLIC KEY" or "RSA PUBLIC KEY" block.
func parsePublicPEM(s string) (crypto.PublicKey, error) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b == nil {
		return nil, fmt.Errorf("%w: malformed PEM block", ErrPublicKey)
	}
	var pub crypto.PublicKey
	var err error
	switch b.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
	default:
		if strings.Contains(b.Type, "PRIVATE") {
			return nil, fmt.Errorf("%w: this is a private key (%s); give the public half", ErrPublicKey, b.Type)
		}
		return nil, fmt.Errorf("%w: PEM block %q (want PUBLIC KEY or RSA PUBLIC KEY)", ErrPublicKey, b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPublicKey, b.Type, err)
	}
	if _, _, err := KeyType(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// WriteNew writes pemData to a new file at path, created with mode 0600
// from the start (O_CREATE|O_EXCL, no chmod afterwards) and fsynced, making
// missing parent directories with mode 0750. It never overwrites: when
// path exists the error wraps fs.ErrExist. A file it created but could
// not finish writing is removed.
func WriteNew(path string, pemData []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("making directory for key %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("key file %s already exists; not overwriting it (move it away to replace the key): %w", path, err)
		}
		return fmt.Errorf("creating key file %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err := f.Write(pemData); err != nil {
		return fmt.Errorf("writing key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing key file %s: %w", path, err)
	}
	// Make the new directory entry durable too.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// LoadOrCreate returns the key at path when there is one, and otherwise
// generates one with Generate and writes it with WriteNew (created is then
// true). An existing key of another algorithm or RSA size than asked is an
// error wrapping ErrMismatch: it is kept as is, since replacing a key that
// may be published in DNS is a separate rotation step.
func LoadOrCreate(path, algorithm string, bits int, rand io.Reader) (key crypto.Signer, created bool, err error) {
	if err := checkParams(algorithm, bits); err != nil {
		return nil, false, err
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := ParsePEM(data)
		if err != nil {
			return nil, false, fmt.Errorf("reading existing key %s: %w", path, err)
		}
		alg, size, err := KeyType(k)
		if err != nil {
			return nil, false, fmt.Errorf("reading existing key %s: %w", path, err)
		}
		if alg != algorithm || (alg == RSA && size != bits) {
			return nil, false, fmt.Errorf("%w: %s holds %s, but %s was asked; it is left untouched (rotating to a new key is a separate step)",
				ErrMismatch, path, describe(alg, size), describe(algorithm, bits))
		}
		return k, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("reading existing key %s: %w", path, err)
	}
	k, err := Generate(algorithm, bits, rand)
	if err != nil {
		return nil, false, err
	}
	pemData, err := MarshalPEM(k)
	if err != nil {
		return nil, false, err
	}
	if err := WriteNew(path, pemData); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// describe names a key kind for messages: "an RSA 2048-bit key".
func describe(alg string, bits int) string {
	if alg == RSA {
		return fmt.Sprintf("an RSA %d-bit key", bits)
	}
	return "an " + alg + " key"
}
