package testdaemons

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// KnotOptions configure StartKnotWith.
type KnotOptions struct {
	// TSIG, when its Name is set, is a key knotd accepts dynamic updates
	// (RFC 2136) signed with, for every zone it serves. Unsigned updates
	// and updates signed with another key are refused.
	TSIG TSIGKey
}

// TSIGKey is a TSIG key (RFC 8945) as knotd and nsupdate configure it.
type TSIGKey struct {
	// Name is the key's name, fully qualified ("update.example.test.").
	Name string
	// Algorithm is "hmac-sha256", "hmac-sha512"...
	Algorithm string
	// Secret is the base64 of the shared secret.
	Secret string
}

// NewTSIGKey returns an hmac-sha256 key named name with a random 32-byte
// secret.
func NewTSIGKey(t testing.TB, name string) TSIGKey {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	return TSIGKey{Name: dns.Fqdn(strings.ToLower(name)), Algorithm: "hmac-sha256", Secret: base64.StdEncoding.EncodeToString(b)}
}

// BINDFile writes k in BIND's key-file format (as tsig-keygen prints it)
// into dir, mode 0600, and returns its path.
func (k TSIGKey) BINDFile(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, strings.TrimSuffix(k.Name, ".")+".key")
	text := fmt.Sprintf("key %q {\n\talgorithm %s;\n\tsecret %q;\n};\n", strings.TrimSuffix(k.Name, "."), k.Algorithm, k.Secret)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	return path
}

// StartKnotWith is StartKnot with options: with opts.TSIG set, every zone
// accepts dynamic updates signed with that key.
func StartKnotWith(t testing.TB, zones map[string]string, opts KnotOptions) *Knot {
	t.Helper()
	return startKnot(t, zones, opts)
}

// sections returns the key and acl sections of knot.conf.
func (o KnotOptions) sections() string {
	if o.TSIG.Name == "" {
		return ""
	}
	return fmt.Sprintf("key:\n  - id: %s\n    algorithm: %s\n    secret: %s\nacl:\n  - id: sendready_update\n    key: %s\n    action: update\n",
		dns.Fqdn(o.TSIG.Name), o.TSIG.Algorithm, o.TSIG.Secret, dns.Fqdn(o.TSIG.Name))
}

// zoneACL returns the acl line of a zone in knot.conf.
func (o KnotOptions) zoneACL() string {
	if o.TSIG.Name == "" {
		return ""
	}
	return "    acl: sendready_update\n"
}

// Serial returns the SOA serial knotd serves for origin now; it fails the
// test when knotd does not answer.
func (k *Knot) Serial(t testing.TB, origin string) uint32 {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
	r, _, err := c.Exchange(m, k.Addr)
	if err != nil {
		t.Fatalf("testdaemons: SOA of %s from knotd on %s: %v", origin, k.Addr, err)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial
		}
	}
	t.Fatalf("testdaemons: no SOA of %s from knotd on %s (%s)", origin, k.Addr, dns.RcodeToString[r.Rcode])
	return 0
}
