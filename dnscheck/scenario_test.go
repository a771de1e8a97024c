package dnscheck

import (
	"context"
	"crypto"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/dkimkeys"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// loadTestKey reads a PEM public key from testdata/checks.
func loadTestKey(t testing.TB, name string) crypto.PublicKey {
	t.Helper()
	data, err := os.ReadFile("testdata/checks/" + name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dkimkeys.ParsePublic(string(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}

// dkimLine is the zone line of a DKIM record for key at sel, its TXT
// split into 255-byte strings by records.
func dkimLine(t testing.TB, sel string, key crypto.PublicKey) string {
	t.Helper()
	d, err := records.NewDKIM(key)
	if err != nil {
		t.Fatal(err)
	}
	return records.Record{Name: dkimName(sel, "example.com"), Type: records.TypeTXT, TTL: 3600, Value: d.String()}.ZoneLine("")
}

const (
	soaExample = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"
	soaReverse = "2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"
	soaNet     = "example.net. 3600 IN SOA ns1.example.net. hostmaster.example.net. 1 7200 3600 1209600 300"
)

// goodZone is example.com as it should be, with its reverse zone.
func goodZone(t testing.TB) map[string]string {
	return map[string]string{
		"soa":   soaExample,
		"ns1":   "example.com. 3600 IN NS ns1.example.com.",
		"ns2":   "example.com. 3600 IN NS ns2.example.com.",
		"mx":    "example.com. 3600 IN MX 10 mail.example.com.",
		"a":     "mail.example.com. 3600 IN A 192.0.2.10",
		"spf":   `example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 -all"`,
		"other": `example.com. 3600 IN TXT "google-site-verification=abc"`,
		"dkim":  dkimLine(t, "s1", loadTestKey(t, "rsa2048a.pub.pem")),
		"dmarc": `_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"`,
		"rsoa":  soaReverse,
		"ptr":   "10.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.",
		"net":   soaNet,
	}
}

func lines(z map[string]string, extra ...string) []string {
	var out []string
	for _, l := range z {
		if l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return append(out, extra...)
}

func goodExpect(t testing.TB) Expect {
	return Expect{
		Domain:    "example.com",
		Hostname:  "mail.example.com",
		IPs:       []netip.Addr{netip.MustParseAddr("192.0.2.10")},
		MX:        []string{"mail.example.com"},
		Selectors: []Selector{{Name: "s1", Key: loadTestKey(t, "rsa2048a.pub.pem")}},
	}
}

// world is a scenario's DNS: two authoritative servers and resolvers.
type world struct {
	ns1, ns2        []string
	resolver        []string // nil: what ns1 serves, plus extra
	extra           []string // resolver-only data (other zones: includes, CNAME targets)
	opts1           serverOpts
	opts2           serverOpts
	handler2        dns.HandlerFunc // replaces ns2's zone handler
	resolverHandler dns.HandlerFunc
}

type started struct {
	ns1, ns2, res *testServer
	checker       *Checker
}

func (w world) start(t *testing.T) started {
	t.Helper()
	var s started
	s.ns1 = startServer(t, newZoneData(t, true, w.ns1...).handler, w.opts1)
	h2 := w.handler2
	if h2 == nil {
		h2 = newZoneData(t, true, w.ns2...).handler
	}
	s.ns2 = startServer(t, h2, w.opts2)
	rl := w.resolver
	if rl == nil {
		rl = w.ns1
	}
	rh := w.resolverHandler
	if rh == nil {
		rh = newZoneData(t, false, append(append([]string(nil), rl...), w.extra...)...).handler
	}
	s.res = startServer(t, rh, serverOpts{})
	s.checker = New(Config{
		Authoritative: []string{s.ns1.Addr, s.ns2.Addr},
		Resolvers:     []string{s.res.Addr},
		Timeout:       200 * time.Millisecond,
		Retries:       NoRetry,
	})
	return s
}

func find(t *testing.T, rep Report, id, key string) Result {
	t.Helper()
	for _, r := range rep.Checks {
		if r.ID == id && (key == "" || r.Selector == key || r.IP == key) {
			return r
		}
	}
	t.Fatalf("no %s result in %+v", id, rep.Checks)
	return Result{}
}

func dump(t *testing.T, rep Report) {
	t.Helper()
	for _, r := range rep.Checks {
		t.Logf("%-6s %-8s %s%s | %s | fix: %s", r.ID, r.Status, r.Selector, r.IP, r.Detail, r.Fix)
		for _, o := range r.Observations {
			t.Logf("       %s %s %s %v ttl=%d %s %s", o.Server, o.Kind, o.Rcode, o.Values, o.TTL, o.Status, o.Error)
		}
	}
}

func TestScenarios(t *testing.T) {
	keyA := loadTestKey(t, "rsa2048a.pub.pem")
	keyB := loadTestKey(t, "rsa2048b.pub.pem")
	with := func(change map[string]string) []string {
		z := goodZone(t)
		for k, v := range change {
			z[k] = v
		}
		return lines(z)
	}
	good := with(nil)
	var includes11 []string
	var inc11Terms []string
	for i := range 11 {
		n := string(rune('a'+i)) + ".example.net."
		includes11 = append(includes11, n+` 3600 IN TXT "v=spf1 -all"`)
		inc11Terms = append(inc11Terms, "include:"+strings.TrimSuffix(n, "."))
	}
	type want struct {
		id, key string
		status  Status
		detail  string // substring
	}
	tests := []struct {
		name  string
		world world
		exp   func(*Expect)
		wants []want
		check func(t *testing.T, s started, rep Report)
	}{
		{
			name:  "all good",
			world: world{ns1: good, ns2: good},
			wants: []want{
				{CheckA, "", StatusPass, "192.0.2.10"},
				{CheckPTR, "192.0.2.10", StatusPass, "forward-confirmed"},
				{CheckHELO, "", StatusSkipped, ""},
				{CheckMX, "", StatusPass, "mail.example.com"},
				{CheckSPF, "", StatusPass, "0 DNS lookups"},
				{CheckDKIM, "s1", StatusPass, "RSA 2048-bit key matching"},
				{CheckDMARC, "", StatusPass, "p=reject"},
				{CheckNS, "", StatusPass, "serial 2024010101 on all 2"},
				{CheckDNSBL, "", StatusSkipped, ""},
			},
			check: func(t *testing.T, s started, rep Report) {
				if rep.Status != StatusPass {
					t.Errorf("report status %s, want pass", rep.Status)
				}
				var ids []string
				for _, r := range rep.Checks {
					ids = append(ids, r.ID)
				}
				if want := []string{"a", "ptr", "helo", "mx", "spf", "dkim", "dmarc", "ns", "dnsbl"}; !slices.Equal(ids, want) {
					t.Errorf("order %v, want %v", ids, want)
				}
				// The 2048-bit key is two strings in the zone and one value.
				if !strings.Contains(goodZone(t)["dkim"], `" "`) {
					t.Errorf("the DKIM zone line is not split: %s", goodZone(t)["dkim"])
				}
			},
		},
		{
			name:  "DKIM missing at one of two authoritative servers",
			world: world{ns1: good, ns2: with(map[string]string{"dkim": ""})},
			wants: []want{{CheckDKIM, "s1", StatusFail, "DKIM record missing at "}},
			check: func(t *testing.T, s started, rep Report) {
				r := find(t, rep, CheckDKIM, "s1")
				if !strings.Contains(r.Detail, "missing at "+s.ns2.Addr) || strings.Contains(r.Detail, "missing at "+s.ns1.Addr) {
					t.Errorf("detail %q does not name ns2 %s alone", r.Detail, s.ns2.Addr)
				}
			},
		},
		{
			name: "resolver cache still old",
			world: world{ns1: good, ns2: good, resolver: with(map[string]string{
				"spf": `example.com. 250 IN TXT "v=spf1 ip4:192.0.2.99 -all"`, "dmarc": ""})},
			wants: []want{
				{CheckSPF, "", StatusPending, "clears in ≈ 4m10s"},
				{CheckDMARC, "", StatusPending, "negative answer (nxdomain)"},
			},
			check: func(t *testing.T, s started, rep Report) {
				r := find(t, rep, CheckSPF, "")
				if r.ETASeconds == nil || *r.ETASeconds != 250 {
					t.Errorf("spf ETA %v, want 250", r.ETASeconds)
				}
				if rep.Status != StatusPending {
					t.Errorf("report %s, want pending", rep.Status)
				}
				if got := rep.NextPoll(); got != 250*time.Second {
					t.Errorf("NextPoll %v", got)
				}
				// Past the bound (the old TTL counted from first seen
				// right), a resolver still serving old data fails.
				base := time.Now()
				s.checker.Now = func() time.Time { return base.Add(2 * time.Hour) }
				rep2 := s.checker.Round(context.Background(), []Expect{goodExpect(t)})
				if r := find(t, rep2, CheckSPF, ""); r.Status != StatusFail || !strings.Contains(r.Detail, "serve-stale") {
					t.Errorf("after 2h: %s %q", r.Status, r.Detail)
				}
			},
		},
		{
			name:  "SPF with 11 lookups",
			world: world{ns1: with(map[string]string{"spf": `example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 ` + strings.Join(inc11Terms, " ") + ` -all"`}), extra: includes11},
			wants: []want{{CheckSPF, "", StatusFail, "11 DNS lookups"}},
		},
		{
			name:  "two SPF records",
			world: world{ns1: with(map[string]string{"other": `example.com. 3600 IN TXT "v=spf1 include:_spf.example.net ~all"`})},
			wants: []want{{CheckSPF, "", StatusFail, "2 SPF records"}},
			check: func(t *testing.T, s started, rep Report) {
				r := find(t, rep, CheckSPF, "")
				if !strings.Contains(r.Fix, `"v=spf1 include:_spf.example.net ip4:192.0.2.10 -all"`) {
					t.Errorf("fix %q is not the merged record", r.Fix)
				}
			},
		},
		{
			name:  "+all",
			world: world{ns1: with(map[string]string{"spf": `example.com. 3600 IN TXT "v=spf1 ip4:192.0.2.10 +all"`})},
			wants: []want{{CheckSPF, "", StatusFail, "+all"}},
		},
		{
			name: "include loop",
			world: world{ns1: with(map[string]string{"spf": `example.com. 3600 IN TXT "v=spf1 include:_spf.example.com -all"`,
				"loop": `_spf.example.com. 3600 IN TXT "v=spf1 include:example.com -all"`})},
			wants: []want{{CheckSPF, "", StatusFail, "loop: example.com → _spf.example.com → example.com"}},
		},
		{
			name:  "DMARC p=foo",
			world: world{ns1: with(map[string]string{"dmarc": `_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=foo"`})},
			wants: []want{{CheckDMARC, "", StatusFail, "p=foo"}},
		},
		{
			name:  "DMARC v= not the first tag",
			world: world{ns1: with(map[string]string{"dmarc": `_dmarc.example.com. 3600 IN TXT "p=reject; v=DMARC1"`})},
			wants: []want{{CheckDMARC, "", StatusFail, "does not start with v=DMARC1"}},
		},
		{
			name:  "DMARC p not second, p=none",
			world: world{ns1: with(map[string]string{"dmarc": `_dmarc.example.com. 3600 IN TXT "v=DMARC1; rua=mailto:d@example.com; p=none"`})},
			wants: []want{{CheckDMARC, "", StatusWarn, "p=quarantine"}},
		},
		{
			name:  "DKIM key mismatch",
			world: world{ns1: with(map[string]string{"dkim": dkimLine(t, "s1", keyB)})},
			wants: []want{{CheckDKIM, "s1", StatusFail, "differs"}},
		},
		{
			name: "DKIM via CNAME",
			world: world{ns1: with(map[string]string{"dkim": "s1._domainkey.example.com. 3600 IN CNAME s1-example-com._domainkey.example.net."}),
				extra: []string{strings.Replace(dkimLine(t, "s1", keyA), "s1._domainkey.example.com.", "s1-example-com._domainkey.example.net.", 1)}},
			wants: []want{{CheckDKIM, "s1", StatusPass, "via CNAME s1-example-com._domainkey.example.net."}},
		},
		{
			name:  "PTR mismatch",
			world: world{ns1: with(map[string]string{"ptr": "10.2.0.192.in-addr.arpa. 3600 IN PTR vps123.hoster.example."})},
			wants: []want{{CheckPTR, "192.0.2.10", StatusFail, "owner of the IP"}},
		},
		{
			name:  "truncated answer needs TCP",
			world: world{ns1: good, ns2: good, opts1: serverOpts{truncate: true}},
			wants: []want{{CheckDKIM, "s1", StatusPass, ""}, {CheckSPF, "", StatusPass, ""}},
			check: func(t *testing.T, s started, rep Report) {
				if rep.Status != StatusPass {
					dump(t, rep)
					t.Errorf("report %s", rep.Status)
				}
			},
		},
		{
			name:  "authoritative server never answers",
			world: world{ns1: good, ns2: good, opts2: serverOpts{silent: true}},
			wants: []want{{CheckA, "", StatusFail, "no answer from"}, {CheckDKIM, "s1", StatusFail, "no answer from"}, {CheckNS, "", StatusFail, "no answer"}},
			check: func(t *testing.T, s started, rep Report) {
				for _, r := range rep.Checks {
					if r.Status == StatusPass {
						t.Errorf("%s passed with a silent server: %s", r.ID, r.Detail)
					}
				}
			},
		},
		{
			name:  "SERVFAIL from an authoritative server",
			world: world{ns1: good, ns2: good, handler2: rcodeHandler(dns.RcodeServerFailure, true)},
			wants: []want{{CheckMX, "", StatusFail, "servfail"}, {CheckSPF, "", StatusFail, "servfail"}},
		},
		{
			name:  "SERVFAIL from the resolver",
			world: world{ns1: good, ns2: good, resolverHandler: rcodeHandler(dns.RcodeServerFailure, false)},
			wants: []want{{CheckMX, "", StatusFail, "resolver"}, {CheckDMARC, "", StatusFail, "servfail"}},
		},
		{
			name:  "probe selectors: found checked, absent silent",
			world: world{ns1: good, ns2: good},
			exp: func(e *Expect) {
				e.Selectors = []Selector{{Name: "default", Probe: true}, {Name: "s1", Probe: true}}
			},
			wants: []want{{CheckDKIM, "s1", StatusPass, ""}},
			check: func(t *testing.T, s started, rep Report) {
				n := 0
				for _, r := range rep.Checks {
					if r.ID == CheckDKIM {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d dkim results, want 1", n)
				}
			},
		},
		{
			name:  "no probe selector found",
			world: world{ns1: good, ns2: good},
			exp: func(e *Expect) {
				e.Selectors = []Selector{{Name: "default", Probe: true}, {Name: "mail", Probe: true}}
			},
			wants: []want{{CheckDKIM, "", StatusFail, "default, mail"}},
		},
		{
			name:  "subdomain uses the organizational domain's DMARC",
			world: world{ns1: good, ns2: good},
			exp: func(e *Expect) {
				e.Domain = "news.example.com"
				e.MX, e.Selectors, e.Hostname = nil, nil, ""
			},
			wants: []want{{CheckDMARC, "", StatusPass, "organizational domain"}},
		},
		{
			name: "DNSBL listed and refused",
			world: world{ns1: good, ns2: good, extra: []string{
				"zen.spamhaus.org. 3600 IN SOA ns.spamhaus.org. h.spamhaus.org. 1 7200 3600 1209600 300",
				"10.2.0.192.zen.spamhaus.org. 60 IN A 127.255.255.254",
				"bl.spamcop.net. 3600 IN SOA ns.spamcop.net. h.spamcop.net. 1 7200 3600 1209600 300",
				"10.2.0.192.bl.spamcop.net. 60 IN A 127.0.0.2",
			}},
			exp:   func(e *Expect) { e.DNSBL = true },
			wants: []want{{CheckDNSBL, "", StatusWarn, "listed on bl.spamcop.net"}},
			check: func(t *testing.T, s started, rep Report) {
				r := find(t, rep, CheckDNSBL, "")
				if !strings.Contains(r.Detail, "zen.spamhaus.org refused") || strings.Contains(r.Detail, "listed on zen") {
					t.Errorf("detail %q", r.Detail)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.world.ns2 == nil {
				tc.world.ns2 = tc.world.ns1
			}
			s := tc.world.start(t)
			exp := goodExpect(t)
			if tc.exp != nil {
				tc.exp(&exp)
			}
			rep := s.checker.Round(context.Background(), []Expect{exp})
			for _, w := range tc.wants {
				r := find(t, rep, w.id, w.key)
				if r.Status != w.status || !strings.Contains(r.Detail, w.detail) {
					t.Errorf("%s %s: %s %q, want %s containing %q", w.id, w.key, r.Status, r.Detail, w.status, w.detail)
				}
			}
			if tc.check != nil {
				tc.check(t, s, rep)
			}
			if t.Failed() {
				dump(t, rep)
			}
		})
	}
}
