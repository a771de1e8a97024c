package dnscheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// memWriter captures the reply of a dns.Handler without a network.
type memWriter struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (w *memWriter) WriteMsg(m *dns.Msg) error { w.msg = m; return nil }
func (w *memWriter) LocalAddr() net.Addr       { return &net.UDPAddr{} }
func (w *memWriter) RemoteAddr() net.Addr      { return &net.UDPAddr{} }

// fakeServer is a server whose answers come from zone lines in memory.
type fakeServer struct {
	server Server
	zone   *zoneData
	err    error // set: every response fails so
}

func (f fakeServer) respond(q Query) Response {
	r := Response{Server: f.server, Query: q, At: time.Unix(0, 0)}
	if f.err != nil {
		r.Err = f.err
		return r
	}
	req := new(dns.Msg)
	req.SetQuestion(q.Name, q.Type)
	w := &memWriter{}
	f.zone.handler(w, req)
	r.Rcode, r.AA, r.Answer, r.Ns = w.msg.Rcode, w.msg.Authoritative, w.msg.Answer, w.msg.Ns
	return r
}

// fakeResponses answers every planned query of exps from the servers, as
// Engine.Round would.
func fakeResponses(exps []Expect, servers ...fakeServer) *Responses {
	rs := &Responses{}
	for _, q := range Plan(exps) {
		for _, s := range servers {
			rs.Add(s.respond(q))
		}
	}
	return rs
}

// fakeResolver implements Resolver from one server's data.
type fakeResolver struct{ fakeServer }

func (f fakeResolver) Lookup(_ context.Context, name string, qtype uint16) Response {
	return f.respond(Query{Name: name, Type: qtype})
}

func authServer(t *testing.T, name string, ls ...string) fakeServer {
	return fakeServer{server: Server{Addr: "192.0.2.53:53", Kind: Authoritative, Name: name}, zone: newZoneData(t, true, ls...)}
}

func resolverServer(t *testing.T, ls ...string) fakeServer {
	return fakeServer{server: Server{Addr: "198.51.100.53:53", Kind: Recursive}, zone: newZoneData(t, false, ls...)}
}

// evalWith evaluates exp against one authoritative server and one
// resolver serving zone lines (the resolver: resolverLines, or the same).
func evalWith(t *testing.T, exp Expect, authLines, resolverLines []string, tr *Tracker, now time.Time) []Result {
	t.Helper()
	if resolverLines == nil {
		resolverLines = authLines
	}
	a := authServer(t, "ns1.example.com", authLines...)
	r := resolverServer(t, resolverLines...)
	rs := fakeResponses([]Expect{exp}, a, r)
	return Evaluate(context.Background(), exp, rs, fakeResolver{r}, tr, now)
}

func pick(t *testing.T, rr []Result, id string) Result {
	t.Helper()
	for _, r := range rr {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no %s result", id)
	return Result{}
}

func TestEvaluateTable(t *testing.T) {
	ed := ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)
	edRec, _ := records.NewDKIM(ed)
	rsa1024 := loadTestKey(t, "rsa1024.pub.pem")
	weak, _ := records.NewDKIM(rsa1024)
	testing2048, _ := records.NewDKIM(loadTestKey(t, "rsa2048a.pub.pem"))
	testing2048.Flags = []string{"y"}
	txt := func(name, v string) string {
		return records.Record{Name: name, Type: records.TypeTXT, TTL: 3600, Value: v}.ZoneLine("")
	}
	tests := []struct {
		name   string
		change map[string]string
		exp    func(*Expect)
		id     string
		status Status
		detail string
		fix    string
	}{
		{"ed25519 key", map[string]string{"dkim": txt("s1._domainkey.example.com.", edRec.String())},
			func(e *Expect) { e.Selectors[0].Key = ed }, CheckDKIM, StatusPass, "ed25519 key matching", ""},
		{"1024-bit key warns", map[string]string{"dkim": txt("s1._domainkey.example.com.", weak.String())},
			func(e *Expect) { e.Selectors[0].Key = nil }, CheckDKIM, StatusWarn, "1024 bits", ""},
		{"t=y warns", map[string]string{"dkim": txt("s1._domainkey.example.com.", testing2048.String())},
			nil, CheckDKIM, StatusWarn, "t=y", "v=DKIM1; k=rsa; p="},
		{"revoked key fails", map[string]string{"dkim": txt("s1._domainkey.example.com.", "v=DKIM1; p=")},
			nil, CheckDKIM, StatusFail, "revoked", ""},
		{"PKCS#1 key matches", map[string]string{"dkim": txt("s1._domainkey.example.com.", "v=DKIM1; k=rsa; p="+pkcs1(t))},
			nil, CheckDKIM, StatusPass, "matching", ""},
		{"A with an extra address", map[string]string{"a2": "mail.example.com. 3600 IN AAAA 2001:db8::99"},
			nil, CheckA, StatusFail, "extra 2001:db8::99", "; delete: mail.example.com."},
		{"PTR not forward-confirmed", map[string]string{"a": "mail.example.com. 3600 IN A 192.0.2.11"},
			nil, CheckPTR, StatusFail, "does not resolve back", ""},
		{"MX differs", map[string]string{"mx": "example.com. 3600 IN MX 10 mx.other.example."},
			nil, CheckMX, StatusFail, "missing mail.example.com", "example.com.\t3600\tIN\tMX\t10 mail.example.com."},
		{"MX any", map[string]string{"mx": "example.com. 3600 IN MX 10 mx.other.example."},
			func(e *Expect) { e.MX = nil }, CheckMX, StatusPass, "mx.other.example", ""},
		{"no MX", map[string]string{"mx": ""},
			nil, CheckMX, StatusFail, "no MX", ""},
		{"O365 include missing", nil,
			func(e *Expect) { e.SPFIncludes = []string{"spf.protection.outlook.com"} }, CheckSPF, StatusFail, "lacks include:spf.protection.outlook.com",
			`"v=spf1 ip4:192.0.2.10 include:spf.protection.outlook.com -all"`},
		{"SPF softfail for the IP", map[string]string{"spf": txt("example.com.", "v=spf1 ip4:192.0.2.99 ~all")},
			nil, CheckSPF, StatusFail, "192.0.2.10 gets softfail", `"v=spf1 ip4:192.0.2.99 ip4:192.0.2.10 ~all"`},
		{"no SPF", map[string]string{"spf": ""},
			nil, CheckSPF, StatusFail, "no SPF record", `"v=spf1 ip4:192.0.2.10 ~all"`},
		{"SPF syntax", map[string]string{"spf": txt("example.com.", "v=spf1 ip4:192.0.2.300 -all")},
			nil, CheckSPF, StatusFail, "does not parse", ""},
		{"DMARC rua elsewhere without authorisation", map[string]string{"dmarc": txt("_dmarc.example.com.", "v=DMARC1; p=reject; rua=mailto:d@reports.example.net")},
			nil, CheckDMARC, StatusWarn, "does not accept reports", "example.com._report._dmarc.reports.example.net."},
		{"DMARC rua elsewhere authorised", map[string]string{"dmarc": txt("_dmarc.example.com.", "v=DMARC1; p=reject; rua=mailto:d@reports.example.net"),
			"auth": txt("example.com._report._dmarc.reports.example.net.", "v=DMARC1")},
			nil, CheckDMARC, StatusPass, "p=reject", ""},
		{"two DMARC records", map[string]string{"d2": txt("_dmarc.example.com.", "v=DMARC1; p=none")},
			nil, CheckDMARC, StatusFail, "2 DMARC records", ""},
		{"no DMARC", map[string]string{"dmarc": ""},
			nil, CheckDMARC, StatusFail, "no DMARC record", `_dmarc.example.com.	3600	IN	TXT	"v=DMARC1; p=none; rua=mailto:postmaster@example.com"`},
		{"DMARC unknown tag", map[string]string{"dmarc": txt("_dmarc.example.com.", "v=DMARC1; p=reject; foo=bar")},
			nil, CheckDMARC, StatusWarn, "unknown tag foo=", ""},
		{"dnsbl skipped without IPv4", nil,
			func(e *Expect) { e.DNSBL = true; e.IPs = []netip.Addr{netip.MustParseAddr("2001:db8::10")} }, CheckDNSBL, StatusSkipped, "no IPv4", ""},
		{"a skipped without hostname", nil,
			func(e *Expect) { e.Hostname = "" }, CheckA, StatusSkipped, "no mail server hostname", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := goodZone(t)
			z["netzone"] = soaNet
			for k, v := range tc.change {
				z[k] = v
			}
			exp := goodExpect(t)
			if tc.exp != nil {
				tc.exp(&exp)
			}
			r := pick(t, evalWith(t, exp, lines(z), nil, nil, time.Now()), tc.id)
			if r.Status != tc.status || !strings.Contains(r.Detail, tc.detail) || !strings.Contains(r.Fix, tc.fix) {
				t.Errorf("%s: %s %q fix %q; want %s, %q, fix containing %q", tc.id, r.Status, r.Detail, r.Fix, tc.status, tc.detail, tc.fix)
			}
			if strings.Contains(r.Detail, "\n") {
				t.Errorf("detail is not one line: %q", r.Detail)
			}
		})
	}
}

// pkcs1 is the test key as a PKCS#1 RSAPublicKey in base64.
func pkcs1(t *testing.T) string {
	t.Helper()
	d, _ := records.NewDKIM(loadTestKey(t, "rsa2048a.pub.pem"))
	k, _ := d.PublicKey()
	return base64.StdEncoding.EncodeToString(pkcs1Bytes(k))
}

// TestPropagationBound: a resolver with a negative answer is pending with
// the negative TTL, then fails once the bound counted from first seen
// right has passed.
func TestPropagationBound(t *testing.T) {
	z := goodZone(t)
	auth := lines(z)
	z["dmarc"] = ""
	old := lines(z)
	tr := NewTracker()
	t0 := time.Unix(1_700_000_000, 0)
	exp := goodExpect(t)
	r := pick(t, evalWith(t, exp, auth, old, tr, t0), CheckDMARC)
	if r.Status != StatusPending || r.ETASeconds == nil || *r.ETASeconds != 300 || !strings.Contains(r.Detail, "≈ 5m0s") {
		t.Fatalf("round 1: %s %v %q", r.Status, r.ETASeconds, r.Detail)
	}
	r = pick(t, evalWith(t, exp, auth, old, tr, t0.Add(299*time.Second)), CheckDMARC)
	if r.Status != StatusPending || *r.ETASeconds != 1 {
		t.Fatalf("round 2: %s %v %q", r.Status, r.ETASeconds, r.Detail)
	}
	r = pick(t, evalWith(t, exp, auth, old, tr, t0.Add(301*time.Second)), CheckDMARC)
	if r.Status != StatusFail || !strings.Contains(r.Detail, "serve-stale") {
		t.Fatalf("round 3: %s %q", r.Status, r.Detail)
	}
}

// TestNSSerialLag: a secondary behind on the serial is pending for the
// refresh interval after the new serial was first seen, then fails.
func TestNSSerialLag(t *testing.T) {
	z := goodZone(t)
	newer := lines(z)
	z["soa"] = strings.Replace(soaExample, "2024010101", "2024010100", 1)
	older := lines(z)
	exp := goodExpect(t)
	rs := fakeResponses([]Expect{exp}, authServer(t, "ns1.example.com", newer...), fakeServer{server: Server{Addr: "192.0.2.54:53", Kind: Authoritative, Name: "ns2.example.com"}, zone: newZoneData(t, true, older...)})
	tr := NewTracker()
	t0 := time.Unix(1_700_000_000, 0)
	r := pick(t, Evaluate(context.Background(), exp, rs, nil, tr, t0), CheckNS)
	if r.Status != StatusPending || r.ETASeconds == nil || *r.ETASeconds != 7200 || !strings.Contains(r.Detail, "ns2.example.com (192.0.2.54) has serial 2024010100") {
		t.Fatalf("round 1: %s %v %q", r.Status, r.ETASeconds, r.Detail)
	}
	r = pick(t, Evaluate(context.Background(), exp, rs, nil, tr, t0.Add(2*time.Hour+time.Second)), CheckNS)
	if r.Status != StatusFail {
		t.Fatalf("round 2: %s %q", r.Status, r.Detail)
	}
}

func TestPlan(t *testing.T) {
	exp := goodExpect(t)
	exp.Domain = "news.example.com"
	exp.SPFIncludes = []string{"spf.protection.outlook.com"}
	got := Plan([]Expect{exp, exp})
	var s []string
	for _, q := range got {
		s = append(s, q.Name+" "+dns.TypeToString[q.Type])
	}
	want := []string{
		"mail.example.com. A", "mail.example.com. AAAA", "10.2.0.192.in-addr.arpa. PTR",
		"news.example.com. MX", "news.example.com. TXT", "s1._domainkey.news.example.com. TXT",
		"_dmarc.news.example.com. TXT", "_dmarc.example.com. TXT", "news.example.com. SOA",
		"spf.protection.outlook.com. TXT",
	}
	if strings.Join(s, "\n") != strings.Join(want, "\n") {
		t.Errorf("Plan:\n%s\nwant:\n%s", strings.Join(s, "\n"), strings.Join(want, "\n"))
	}
}

func TestNextPoll(t *testing.T) {
	eta := 42
	tests := []struct {
		name string
		rep  Report
		want time.Duration
	}{
		{"empty", Report{}, MinPoll},
		{"eta", Report{Checks: []Result{{Status: StatusPending, ETASeconds: &eta, Observations: []Observation{{TTL: 10}}}}}, 42 * time.Second},
		{"ttl", Report{Checks: []Result{{Status: StatusPass, Observations: []Observation{{TTL: 300}, {TTL: 60}, {TTL: 0}}}}}, time.Minute},
		{"floor", Report{Checks: []Result{{Status: StatusPass, Observations: []Observation{{TTL: 1}}}}}, MinPoll},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rep.NextPoll(); got != tc.want {
				t.Errorf("NextPoll() = %v, want %v", got, tc.want)
			}
		})
	}
}

func pkcs1Bytes(k any) []byte { return x509.MarshalPKCS1PublicKey(k.(*rsa.PublicKey)) }
