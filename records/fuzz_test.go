package records

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below check three properties of every parser: no input
// panics; an error wraps one of the package sentinels (errors.Is); a value
// that parses formats (String) into text that parses back to an equal
// value. Their seed corpora live in testdata/fuzz/<FuzzName>/ (real-world
// records, edge cases, unicode, 64 KiB of garbage); run one with
//
//	go test -run='^$' -fuzz=FuzzParseSPF -fuzztime=60s ./records/
//
// and commit any crasher the fuzzer writes next to them.

func FuzzParseSPF(f *testing.F) {
	f.Add("v=spf1 include:spf.protection.outlook.com -all")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := ParseSPF(s)
		if err != nil {
			if !errors.Is(err, ErrNotSPF) && !errors.Is(err, ErrSPFSyntax) {
				t.Fatalf("ParseSPF(%q) error %v wraps no records sentinel", s, err)
			}
			return
		}
		out := rec.String()
		back, err := ParseSPF(out)
		if err != nil {
			t.Fatalf("ParseSPF(%q) = %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(back, rec) {
			t.Fatalf("round trip of %q through %q:\n got %#v\nwant %#v", s, out, back, rec)
		}
		if again := back.String(); again != out {
			t.Fatalf("String() not stable: %q then %q", out, again)
		}
		_ = rec.LookupTerms()
		_ = rec.HasPassAll()
	})
}

func FuzzParseDKIM(f *testing.F) {
	f.Add("v=DKIM1; k=rsa; p=AQID")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDKIM(s)
		if err != nil {
			if !errors.Is(err, ErrDKIMSyntax) {
				t.Fatalf("ParseDKIM(%q) error %v is not ErrDKIMSyntax", s, err)
			}
			return
		}
		out := d.String()
		back, err := ParseDKIM(out)
		if err != nil {
			t.Fatalf("ParseDKIM(%q) = %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip of %q through %q:\n got %#v\nwant %#v", s, out, back, d)
		}
		if again := back.String(); again != out {
			t.Fatalf("String() not stable: %q then %q", out, again)
		}
		// The key accessors must not panic on whatever p= decoded to.
		if _, err := d.PublicKey(); err != nil && !errors.Is(err, ErrDKIMKey) && !errors.Is(err, ErrDKIMRevoked) {
			t.Fatalf("PublicKey() error %v wraps no records sentinel", err)
		}
		_ = d.RSABits()
	})
}

func FuzzParseDMARC(f *testing.F) {
	f.Add("v=DMARC1; p=reject; rua=mailto:dmarc@example.com")
	f.Fuzz(func(t *testing.T, s string) {
		d, _, err := ParseDMARC(s)
		if err != nil {
			if !errors.Is(err, ErrNotDMARC) && !errors.Is(err, ErrDMARCSyntax) {
				t.Fatalf("ParseDMARC(%q) error %v wraps no records sentinel", s, err)
			}
			return
		}
		out := d.String()
		back, _, err := ParseDMARC(out)
		if err != nil {
			t.Fatalf("ParseDMARC(%q) = %q, which does not parse: %v", s, out, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip of %q through %q:\n got %#v\nwant %#v", s, out, back, d)
		}
		if again := back.String(); again != out {
			t.Fatalf("String() not stable: %q then %q", out, again)
		}
		for _, u := range append(d.RUA, d.RUF...) {
			if MailtoAddress(u) == "" {
				t.Fatalf("accepted report URI %q has no mailto address", u)
			}
		}
	})
}

// FuzzTXTZoneLine checks that any TXT value survives SplitTXT, QuoteTXT and
// a zone line parsed by miekg/dns.
func FuzzTXTZoneLine(f *testing.F) {
	f.Add("v=spf1 -all")
	f.Fuzz(func(t *testing.T, s string) {
		chunks := SplitTXT(s)
		if strings.Join(chunks, "") != s {
			t.Fatalf("SplitTXT(%q) = %q does not join back", s, chunks)
		}
		for _, c := range chunks {
			if len(c) > MaxTXTString {
				t.Fatalf("SplitTXT(%q): chunk of %d bytes", s, len(c))
			}
		}
		if len(s) > 8192 {
			return // a TXT rdata holds 64 KiB on the wire; keep runs fast
		}
		r := Record{Name: "x.example.com.", Type: TypeTXT, TTL: 300, Value: s}
		rr, err := r.RR()
		if err != nil {
			t.Fatalf("RR() of %q: %v", s, err)
		}
		if got := FromRR(rr).Value; got != s {
			t.Fatalf("zone line %q gives %q, want %q", r.ZoneLine("example.com"), got, s)
		}
	})
}

// garbage returns n deterministic pseudo-random bytes drawn mostly from
// the characters records are made of (so that parsers get past their
// first check), with control and high bytes mixed in.
func garbage(seed uint64, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" +
		"=;:/.%{}-+~?!,@_ \t"
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := range b {
		if r.IntN(16) == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return string(b)
}

// TestGarbage64KiB feeds 64 KiB of garbage to every parser, alone and
// behind a valid version tag: each must fail cleanly and quickly.
func TestGarbage64KiB(t *testing.T) {
	const size = 64 << 10
	type parser struct {
		name    string
		prefix  string
		parse   func(string) error
		sentils []error
	}
	parsers := []parser{
		{"SPF", "v=spf1 ", func(s string) error { _, err := ParseSPF(s); return err }, []error{ErrNotSPF, ErrSPFSyntax}},
		{"DKIM", "v=DKIM1; k=rsa; p=", func(s string) error { _, err := ParseDKIM(s); return err }, []error{ErrDKIMSyntax}},
		{"DMARC", "v=DMARC1; p=none; ", func(s string) error { _, _, err := ParseDMARC(s); return err }, []error{ErrNotDMARC, ErrDMARCSyntax}},
	}
	for _, p := range parsers {
		for seed := uint64(1); seed <= 4; seed++ {
			for _, prefix := range []string{"", p.prefix} {
				in := prefix + garbage(seed, size-len(prefix))
				if len(in) != size {
					t.Fatalf("input of %d bytes", len(in))
				}
				start := time.Now()
				err := p.parse(in)
				took := time.Since(start)
				if err == nil {
					t.Errorf("%s: 64 KiB of garbage (seed %d, prefix %q) parsed", p.name, seed, prefix)
					continue
				}
				wrapped := false
				for _, s := range p.sentils {
					wrapped = wrapped || errors.Is(err, s)
				}
				if !wrapped {
					t.Errorf("%s: error %v wraps no records sentinel", p.name, err)
				}
				if took > 2*time.Second {
					t.Errorf("%s: 64 KiB of garbage took %s", p.name, took)
				}
			}
		}
	}
}
