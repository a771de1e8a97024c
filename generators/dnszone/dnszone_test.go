package dnszone

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/dkimkeys"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
	"github.com/sendready/sendready/records"
)

// now fixes the default DKIM selector: 202405.
var now = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

// loadKey reads a PEM public key from testdata.
func loadKey(t *testing.T, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := dkimkeys.ParsePublic(string(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}

// base is one domain, direct mode, on one IPv4 address.
func base() *answers.Answers {
	return &answers.Answers{
		Server: answers.Server{Hostname: "mail.example.com", IPv4: []string{"203.0.113.10"}},
		Domains: []answers.Domain{{
			Name:  "example.com",
			DMARC: answers.DMARC{Policy: "quarantine", RUA: "mailto:dmarc@example.com"},
		}},
	}
}

// input applies the defaults and gives every non-external signer the
// fixed key of its algorithm; external signers get the key their
// public_key names.
func input(t *testing.T, a *answers.Answers) generators.Input {
	t.Helper()
	a.Defaults(now)
	keys := map[string]crypto.PublicKey{}
	for _, d := range a.Domains {
		for _, s := range d.Signers() {
			switch {
			case s.External:
				block, _ := pem.Decode([]byte(d.DKIM.PublicKey))
				k, err := x509.ParsePKIXPublicKey(block.Bytes)
				if err != nil {
					t.Fatal(err)
				}
				keys[s.KeyName()] = k
			case s.Algorithm == answers.AlgEd25519:
				keys[s.KeyName()] = loadKey(t, "ed25519.pub.pem")
			default:
				keys[s.KeyName()] = loadKey(t, "rsa2048.pub.pem")
			}
		}
	}
	return generators.Input{Answers: a, Keys: keys, Layout: layout.For(a.Server.Distro, "/"), Version: "test"}
}

// cases are the answers the golden and daemon tests cover.
func cases(t *testing.T) map[string]*answers.Answers {
	t.Helper()
	m := map[string]*answers.Answers{}

	m["direct"] = base()

	two := base()
	two.Server.IPv6 = []string{"2001:db8::10"}
	two.Domains[0].DMARC = answers.DMARC{Policy: "reject", SubdomainPolicy: "quarantine", Pct: 50, RUA: "mailto:dmarc@example.com", RUF: "mailto:forensic@example.com"}
	two.Domains = append(two.Domains, answers.Domain{
		Name:  "example.org",
		DKIM:  answers.DKIM{Selector: "mail"},
		DMARC: answers.DMARC{Policy: "none", RUA: "mailto:dmarc@example.com, mailto:reports@dmarc.example.net"},
	})
	m["two-domains-ipv6"] = two

	conn := base()
	conn.Relay = answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{
		DKIMCNAMEs: map[string]string{
			"selector2": "selector2-example-com._domainkey.contoso.onmicrosoft.com",
			"selector1": "selector1-example-com._domainkey.contoso.onmicrosoft.com.",
		},
	}}
	m["office365-connector"] = conn

	auth := base()
	auth.Relay = answers.Relay{Mode: answers.ModeOffice365SMTPAuth, Office365: answers.Office365{Username: "relay@example.com"}}
	m["office365-smtp-auth"] = auth

	sh := base()
	sh.Relay = answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{
		Host: "smtp.relay.example.net",
		SPF:  []string{"include:_spf.relay.example.net", "ip4:198.51.100.0/24"},
	}}
	sh.Domains[0].SPF = []string{"include:_spf.newsletter.example", "ip4:203.0.113.10"}
	m["smarthost-spf"] = sh

	shDefault := base()
	shDefault.Relay = answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "smtp.relay.example.net"}}
	m["smarthost-default"] = shDefault

	both := base()
	both.Domains[0].DKIM.Algorithm = answers.AlgBoth
	m["algorithm-both"] = both

	ext, err := os.ReadFile(filepath.Join("testdata", "external-rsa1024.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	external := base()
	external.Domains[0].DKIM = answers.DKIM{Selector: "esp", PublicKey: string(ext)}
	m["external-public-key"] = external

	outside := base()
	outside.Server.Hostname = "mx1.hosting.example.net"
	outside.Server.IPv6 = []string{"2001:db8:1:2::25"}
	m["hostname-outside"] = outside
	return m
}

func TestFiles(t *testing.T) {
	for name, a := range cases(t) {
		t.Run(name, func(t *testing.T) {
			files, err := Files(input(t, a))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if f.Target != "" || f.Mode != 0o644 || f.Secret || !strings.HasPrefix(f.Path, "dns/") {
					t.Errorf("%s: target %q mode %v secret %v", f.Path, f.Target, f.Mode, f.Secret)
				}
			}
			golden(t, dump(files))
		})
	}
}

// fileMap indexes files by path.
func fileMap(files []generators.File) map[string]string {
	m := map[string]string{}
	for _, f := range files {
		m[f.Path] = string(f.Data)
	}
	return m
}

// TestRoundTrip checks that every zone line parses with dns.NewRR into the
// record records.json holds, and that every TXT value re-parses into an
// equal struct.
func TestRoundTrip(t *testing.T) {
	for name, a := range cases(t) {
		t.Run(name, func(t *testing.T) {
			in := input(t, a)
			files, err := Files(in)
			if err != nil {
				t.Fatal(err)
			}
			fm := fileMap(files)
			var want []records.Record
			if err := json.Unmarshal([]byte(fm["dns/records.json"]), &want); err != nil {
				t.Fatal(err)
			}
			recs, err := Records(in)
			if err != nil {
				t.Fatal(err)
			}
			var fromRecords []records.Record
			for _, r := range recs {
				if r.Type != records.TypePTR {
					r.Comment = ""
					fromRecords = append(fromRecords, r)
				}
			}
			if !reflect.DeepEqual(fromRecords, want) {
				t.Errorf("records.json differs from Records()")
			}

			var got []records.Record
			for path, data := range fm {
				zoneName, ok := strings.CutSuffix(strings.TrimPrefix(path, "dns/"), ".zone")
				if !ok {
					continue
				}
				if !strings.HasPrefix(data, "$ORIGIN "+zoneName+".\n$TTL 3600\n") {
					t.Errorf("%s does not start with $ORIGIN and $TTL", path)
				}
				prevComment := false
				for i, line := range strings.Split(data, "\n") {
					switch {
					case line == "" || strings.HasPrefix(line, "$"):
						prevComment = false
						continue
					case strings.HasPrefix(line, ";"):
						prevComment = true
						continue
					}
					if !prevComment {
						t.Errorf("%s:%d: no comment above %q", path, i+1, line)
					}
					rr, err := dns.NewRR("$ORIGIN " + zoneName + ".\n" + line)
					if err != nil || rr == nil {
						t.Errorf("%s:%d: %q: %v", path, i+1, line, err)
						continue
					}
					r := records.FromRR(rr)
					r.Zone = zoneName
					if !dns.IsSubDomain(zoneName+".", r.Name) {
						t.Errorf("%s:%d: %s lies outside the zone", path, i+1, r.Name)
					}
					got = append(got, r)
				}
			}
			if len(got) != len(want) {
				t.Errorf("zone files hold %d records, records.json %d", len(got), len(want))
			}
			for _, r := range got {
				found := false
				for _, w := range want {
					found = found || reflect.DeepEqual(r, w)
				}
				if !found {
					t.Errorf("zone record %#v is not in records.json", r)
				}
			}

			for _, r := range want {
				if r.Type != records.TypeTXT {
					continue
				}
				checkTXT(t, r)
			}
		})
	}
}

// checkTXT re-parses a TXT value with the records parser its name calls
// for, and checks that the struct formats back to the same value and
// parses again into an equal struct.
func checkTXT(t *testing.T, r records.Record) {
	t.Helper()
	switch {
	case strings.Contains(r.Name, "._domainkey."):
		d, err := records.ParseDKIM(r.Value)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		again, err := records.ParseDKIM(d.String())
		if err != nil || !reflect.DeepEqual(again, d) || d.String() != r.Value {
			t.Errorf("%s: DKIM round trip: %q -> %q", r.Name, r.Value, d)
		}
		if _, err := d.PublicKey(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
	case strings.HasPrefix(r.Name, "_dmarc."):
		d, warnings, err := records.ParseDMARC(r.Value)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %q", r.Name, err, warnings)
		}
		again, _, err := records.ParseDMARC(d.String())
		if err != nil || !reflect.DeepEqual(again, d) || d.String() != r.Value {
			t.Errorf("%s: DMARC round trip: %q -> %q", r.Name, r.Value, d)
		}
	default:
		s, err := records.ParseSPF(r.Value)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		again, err := records.ParseSPF(s.String())
		if err != nil || !reflect.DeepEqual(again, s) || s.String() != r.Value {
			t.Errorf("%s: SPF round trip: %q -> %q", r.Name, r.Value, s)
		}
		if s.HasPassAll() {
			t.Errorf("%s: +all", r.Name)
		}
	}
}

func TestRecords(t *testing.T) {
	a := base()
	a.Server.IPv6 = []string{"2001:db8::10"}
	recs, err := Records(input(t, a))
	if err != nil {
		t.Fatal(err)
	}
	var ptrs []records.Record
	for _, r := range recs {
		if r.Type == records.TypePTR {
			r.Comment = ""
			ptrs = append(ptrs, r)
		}
	}
	want := []records.Record{
		{Zone: "113.0.203.in-addr.arpa", Name: "10.113.0.203.in-addr.arpa.", Type: "PTR", TTL: 3600, Value: "mail.example.com."},
		{Zone: "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", Name: "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", Type: "PTR", TTL: 3600, Value: "mail.example.com."},
	}
	if !reflect.DeepEqual(ptrs, want) {
		t.Errorf("PTR requests\n got %#v\nwant %#v", ptrs, want)
	}

	// The hostname is the domain itself: no second SPF record at the apex.
	apex := base()
	apex.Server.Hostname = "example.com"
	recs, err = Records(input(t, apex))
	if err != nil {
		t.Fatal(err)
	}
	spf := 0
	for _, r := range recs {
		if r.Name == "example.com." && r.Type == records.TypeTXT {
			spf++
		}
	}
	if spf != 1 {
		t.Errorf("%d TXT records at the apex, want 1", spf)
	}

	// Addresses listed twice give one A record, one ip4: and one PTR.
	dup := base()
	dup.Server.IPv4 = []string{"203.0.113.10", "203.0.113.10"}
	recs, err = Records(input(t, dup))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(recs); n != 7 || recs[1].Value != "v=spf1 ip4:203.0.113.10 ~all" {
		t.Errorf("duplicate address: %d records, SPF %q", n, recs[1].Value)
	}

	// A smarthost given by address gets ip4:, not a:.
	ipHost := base()
	ipHost.Relay = answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "198.51.100.25"}}
	recs, err = Records(input(t, ipHost))
	if err != nil {
		t.Fatal(err)
	}
	if v := recs[1].Value; v != "v=spf1 ip4:203.0.113.10 ip4:198.51.100.25 ~all" {
		t.Errorf("SPF with an IP smarthost: %q", v)
	}

	// With several domains, each gets the Office 365 CNAMEs its targets name.
	multi := base()
	multi.Domains = append(multi.Domains, answers.Domain{Name: "example.org"})
	multi.Relay = answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{DKIMCNAMEs: map[string]string{
		"selector1": "selector1-example-com._domainkey.contoso.onmicrosoft.com",
		"selector2": "selector2-example-org._domainkey.contoso.r-v1.dkim.mail.microsoft",
	}}}
	recs, err = Records(input(t, multi))
	if err != nil {
		t.Fatal(err)
	}
	var cnames []string
	for _, r := range recs {
		if r.Type == records.TypeCNAME {
			cnames = append(cnames, r.Name+" "+r.Value)
		}
	}
	wantCNAMEs := []string{
		"selector1._domainkey.example.com. selector1-example-com._domainkey.contoso.onmicrosoft.com.",
		"selector2._domainkey.example.org. selector2-example-org._domainkey.contoso.r-v1.dkim.mail.microsoft.",
	}
	if !reflect.DeepEqual(cnames, wantCNAMEs) {
		t.Errorf("CNAMEs %q, want %q", cnames, wantCNAMEs)
	}
}

func TestRecordsErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *answers.Answers)
		keys   func(in *generators.Input)
		msg    string
		err    error
	}{
		{name: "missing key", keys: func(in *generators.Input) { delete(in.Keys, "202405._domainkey.example.com") },
			msg: "dnszone: no public key for DKIM selector 202405 of example.com (202405._domainkey.example.com): generate the keys first"},
		{name: "wrong key type", keys: func(in *generators.Input) { in.Keys["202405._domainkey.example.com"] = loadKey(t, "ed25519.pub.pem") },
			msg: "is ed25519, but the selector is for rsa"},
		{name: "too many lookups", change: func(a *answers.Answers) {
			for _, h := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
				a.Domains[0].SPF = append(a.Domains[0].SPF, "include:"+h+".example.net")
			}
		}, msg: "example.com has 11 terms that cost a DNS lookup", err: ErrTooManyLookups},
		{name: "all in extras", change: func(a *answers.Answers) { a.Domains[0].SPF = []string{"+all"} },
			msg: `domains[0].spf: remove "+all"`},
		{name: "modifier in extras", change: func(a *answers.Answers) { a.Domains[0].SPF = []string{"redirect=_spf.example.net"} },
			msg: "is a modifier"},
		{name: "bad mechanism", change: func(a *answers.Answers) { a.Domains[0].SPF = []string{"a:192.0.2.1"} },
			msg: "domains[0].spf: records: invalid SPF record: \"a:192.0.2.1\": a: takes a domain name, not an IP address: use ip4:192.0.2.1", err: records.ErrSPFSyntax},
		{name: "bad smarthost spf", change: func(a *answers.Answers) {
			a.Relay = answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "relay.example.net", SPF: []string{"include"}}}
		}, msg: "relay.smarthost.spf: records: invalid SPF record", err: records.ErrSPFSyntax},
		{name: "rua without mailto", change: func(a *answers.Answers) { a.Domains[0].DMARC.RUA = "dmarc@example.com" },
			msg: `domains[0].dmarc of example.com: records: invalid DMARC record: rua=dmarc@example.com: "dmarc@example.com" is not a mailto: address`, err: records.ErrDMARCSyntax},
		{name: "bad policy", change: func(a *answers.Answers) { a.Domains[0].DMARC.Policy = "block" },
			msg: "p=block: the policy must be none, quarantine or reject", err: records.ErrDMARCSyntax},
		{name: "mx address", change: func(a *answers.Answers) { a.Domains[0].MX = []string{"203.0.113.10"} },
			msg: "203.0.113.10 is an IP address; an MX record must name a host"},
		{name: "cname clashes with selector", change: func(a *answers.Answers) {
			a.Domains[0].DKIM.Selector = "selector1"
			a.Relay = answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{DKIMCNAMEs: map[string]string{"selector1": "selector1-example-com._domainkey.contoso.onmicrosoft.com"}}}
		}, msg: "selector1._domainkey.example.com is also this server's DKIM selector name"},
		{name: "cname of no domain", change: func(a *answers.Answers) {
			a.Domains = append(a.Domains, answers.Domain{Name: "example.org"})
			a.Relay = answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{DKIMCNAMEs: map[string]string{"selector1": "selector1-example-net._domainkey.contoso.onmicrosoft.com"}}}
		}, msg: "selector1-example-net._domainkey.contoso.onmicrosoft.com names none of the domains"},
		{name: "duplicate domain", change: func(a *answers.Answers) { a.Domains = append(a.Domains, a.Domains[0]) },
			msg: "domains[1]: example.com is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base()
			if tt.change != nil {
				tt.change(a)
			}
			in := input(t, a)
			if tt.keys != nil {
				tt.keys(&in)
			}
			_, err := Records(in)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %v is not %v", err, tt.err)
			}
			if _, ferr := Files(in); ferr == nil || ferr.Error() != err.Error() {
				t.Errorf("Files error %v differs from Records error", ferr)
			}
		})
	}
}

func golden(t *testing.T, got string) { goldenfile.Assert(t, goldenfile.Path(t), []byte(got)) }

func dump(files []generators.File) string { return goldenfile.Dump(files) }
