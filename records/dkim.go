package records

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DKIM errors.
var (
	// ErrDKIMSyntax means a DKIM key record breaks RFC 6376 §3.6.1.
	ErrDKIMSyntax = errors.New("records: invalid DKIM key record")
	// ErrDKIMRevoked means the record has an empty p=: the key is revoked.
	ErrDKIMRevoked = errors.New("records: DKIM key revoked (empty p=)")
	// ErrDKIMKey means p= does not hold a key of the type k= names.
	ErrDKIMKey = errors.New("records: bad DKIM public key")
	// ErrUnsupportedKey means a public key type DKIM cannot publish.
	ErrUnsupportedKey = errors.New("records: unsupported public key type (want RSA or Ed25519)")
)

// DKIM key types (k=).
const (
	KeyRSA     = "rsa"     // RFC 6376
	KeyEd25519 = "ed25519" // RFC 8463
)

// DKIM is a DKIM key record, published as TXT at
// <selector>._domainkey.<domain> (RFC 6376 §3.6.1). Unknown tags are
// ignored, as the RFC says, and are not kept.
type DKIM struct {
	// Version is v=: "DKIM1", or "" when the tag is left out. When
	// present it must be the first tag.
	Version string
	// Hashes is h=: the hash algorithms the key may sign with ("sha256");
	// nil means all.
	Hashes []string
	// KeyType is k=: KeyRSA (the default, set by ParseDKIM when the tag is
	// absent) or KeyEd25519 (RFC 8463 §4.2).
	KeyType string
	// Notes is n=: notes for people (qp-section).
	Notes string
	// Key is p=, base64-decoded: for rsa a DER SubjectPublicKeyInfo
	// (RFC 6376 §3.6.1; RSAPublicKey is also met), for ed25519 the raw 32
	// bytes (RFC 8463 §4.2). Empty means revoked.
	Key []byte
	// Services is s=: service types ("email", "*"); nil means all.
	Services []string
	// Flags is t=: "y" (testing: verifiers treat signatures as unsigned)
	// and "s" (strict: no subdomains in i=).
	Flags []string
}

// NewDKIM returns the record that publishes pub: *rsa.PublicKey as a
// SubjectPublicKeyInfo with k=rsa, ed25519.PublicKey as its raw 32 bytes
// with k=ed25519.
func NewDKIM(pub crypto.PublicKey) (DKIM, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return DKIM{}, fmt.Errorf("encoding RSA public key: %w", err)
		}
		return DKIM{Version: "DKIM1", KeyType: KeyRSA, Key: der}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return DKIM{}, fmt.Errorf("%w: ed25519 key of %d bytes", ErrUnsupportedKey, len(k))
		}
		return DKIM{Version: "DKIM1", KeyType: KeyEd25519, Key: slices.Clone([]byte(k))}, nil
	}
	return DKIM{}, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// String formats the record in canonical order: "v=DKIM1; k=rsa; p=...",
// with h=, n=, s= and t= before p= when set. k= is always written.
func (d DKIM) String() string {
	var parts []string
	if d.Version != "" {
		parts = append(parts, "v="+d.Version)
	}
	if len(d.Hashes) > 0 {
		parts = append(parts, "h="+strings.Join(d.Hashes, ":"))
	}
	k := d.KeyType
	if k == "" {
		k = KeyRSA
	}
	parts = append(parts, "k="+k)
	if d.Notes != "" {
		parts = append(parts, "n="+d.Notes)
	}
	if len(d.Services) > 0 {
		parts = append(parts, "s="+strings.Join(d.Services, ":"))
	}
	if len(d.Flags) > 0 {
		parts = append(parts, "t="+strings.Join(d.Flags, ":"))
	}
	parts = append(parts, "p="+base64.StdEncoding.EncodeToString(d.Key))
	return strings.Join(parts, "; ")
}

// ParseDKIM parses a DKIM key record. Errors wrap ErrDKIMSyntax. The key
// itself is decoded by PublicKey.
func ParseDKIM(s string) (DKIM, error) {
	bad := func(format string, args ...any) (DKIM, error) {
		return DKIM{}, fmt.Errorf("%w: %s", ErrDKIMSyntax, fmt.Sprintf(format, args...))
	}
	tags, err := parseTagList(s, false)
	if err != nil {
		return bad("%v", err)
	}
	d := DKIM{KeyType: KeyRSA}
	hasP := false
	for i, t := range tags {
		switch t.name {
		case "v":
			if i != 0 {
				return bad("v= must be the first tag")
			}
			if t.value != "DKIM1" {
				return bad("v=%s: the version must be DKIM1", t.value)
			}
			d.Version = t.value
		case "h":
			d.Hashes = splitList(t.value, ":")
			for _, h := range d.Hashes {
				if !isTagName(h) {
					return bad("h=: bad hash algorithm %q", h)
				}
			}
		case "k":
			switch k := strings.ToLower(t.value); k {
			case KeyRSA, KeyEd25519:
				d.KeyType = k
			default:
				return bad("k=%s: unknown key type (want rsa or ed25519)", t.value)
			}
		case "n":
			d.Notes = t.value
		case "p":
			hasP = true
			v := removeSpace(t.value)
			if v == "" {
				continue
			}
			key, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return bad("p= is not valid base64: %v", err)
			}
			d.Key = key
		case "s":
			d.Services = splitList(t.value, ":")
		case "t":
			d.Flags = splitList(t.value, ":")
		}
	}
	if !hasP {
		return bad("no p= tag (the public key)")
	}
	return d, nil
}

// Revoked reports whether the key is revoked (empty p=).
func (d DKIM) Revoked() bool { return len(d.Key) == 0 }

// Testing reports whether t=y is set: verifiers must not treat failing
// signatures differently from unsigned mail.
func (d DKIM) Testing() bool { return slices.Contains(d.Flags, "y") }

// RSABits returns the modulus size of an RSA key, or 0 when the record
// does not hold a valid RSA key.
func (d DKIM) RSABits() int {
	k, err := d.PublicKey()
	if err != nil {
		return 0
	}
	if r, ok := k.(*rsa.PublicKey); ok {
		return r.N.BitLen()
	}
	return 0
}

// PublicKey decodes p=: *rsa.PublicKey from a SubjectPublicKeyInfo or a
// PKCS#1 RSAPublicKey, ed25519.PublicKey from the raw 32 bytes. A revoked
// key gives ErrDKIMRevoked; an undecodable one wraps ErrDKIMKey.
func (d DKIM) PublicKey() (crypto.PublicKey, error) {
	if d.Revoked() {
		return nil, ErrDKIMRevoked
	}
	switch d.KeyType {
	case KeyRSA, "":
		if k, err := x509.ParsePKIXPublicKey(d.Key); err == nil {
			if r, ok := k.(*rsa.PublicKey); ok {
				return r, nil
			}
			return nil, fmt.Errorf("%w: k=rsa but p= holds a %T", ErrDKIMKey, k)
		}
		if r, err := x509.ParsePKCS1PublicKey(d.Key); err == nil {
			return r, nil
		}
		return nil, fmt.Errorf("%w: p= is neither an RSA SubjectPublicKeyInfo nor a PKCS#1 RSA public key", ErrDKIMKey)
	case KeyEd25519:
		if len(d.Key) == ed25519.PublicKeySize {
			return ed25519.PublicKey(slices.Clone(d.Key)), nil
		}
		if k, err := x509.ParsePKIXPublicKey(d.Key); err == nil {
			if _, ok := k.(ed25519.PublicKey); ok {
				return nil, fmt.Errorf("%w: k=ed25519 needs the raw 32-byte key in p= (RFC 8463), not a SubjectPublicKeyInfo", ErrDKIMKey)
			}
		}
		return nil, fmt.Errorf("%w: an ed25519 key is 32 bytes, p= holds %d", ErrDKIMKey, len(d.Key))
	}
	return nil, fmt.Errorf("%w: unknown key type %q", ErrDKIMKey, d.KeyType)
}

// KeysEqual reports whether a and b are the same public key. Keys of
// different types, and nil keys, are not equal.
func KeysEqual(a, b crypto.PublicKey) bool {
	if a == nil || b == nil {
		return false
	}
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}
