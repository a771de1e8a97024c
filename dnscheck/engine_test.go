package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// exampleZone is example.com as its servers serve it.
var exampleZone = []string{
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 1800 IN MX 20 mx2.example.com.",
	"example.com. 900 IN MX 10 mx1.example.com.",
	`example.com. 600 IN TXT "v=spf1 ip4:192.0.2.1 " "-all"`,
	"example.com. 300 IN A 192.0.2.1",
	"example.com. 300 IN AAAA 2001:db8::1",
	`_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=reject; rua=\"mailto:x@example.com\"\032ok"`,
	"alias.example.com. 60 IN CNAME alias2.example.com.",
	"alias2.example.com. 120 IN CNAME target.example.com.",
	`target.example.com. 30 IN TXT "at the end"`,
	"sub.deep.example.com. 3600 IN A 192.0.2.9",
}

// singleServer starts one server with h and returns an engine that uses it
// both as the authoritative server and as the resolver.
func singleServer(t *testing.T, h dns.HandlerFunc, o serverOpts, cfg Config) (*Engine, *testServer) {
	t.Helper()
	s := startServer(t, h, o)
	cfg.Resolvers = []string{s.Addr}
	cfg.Authoritative = []string{s.Addr}
	return NewEngine(cfg), s
}

func TestEngineAnswer(t *testing.T) {
	auth := startServer(t, newZoneData(t, true, exampleZone...).handler, serverOpts{})
	res := startServer(t, newZoneData(t, false, exampleZone...).handler, serverOpts{})
	e := NewEngine(Config{Resolvers: []string{res.Addr}, Authoritative: []string{auth.Addr}, Timeout: time.Second})
	tests := []struct {
		q      Query
		values []string
		ttl    uint32
	}{
		{Query{"example.com.", dns.TypeMX}, []string{"10 mx1.example.com.", "20 mx2.example.com."}, 900},
		{Query{"example.com.", dns.TypeTXT}, []string{"v=spf1 ip4:192.0.2.1 -all"}, 600},
		{Query{"_dmarc.example.com.", dns.TypeTXT}, []string{`v=DMARC1; p=reject; rua="mailto:x@example.com" ok`}, 3600},
		{Query{"example.com.", dns.TypeA}, []string{"192.0.2.1"}, 300},
		{Query{"example.com.", dns.TypeAAAA}, []string{"2001:db8::1"}, 300},
		{Query{"example.com.", dns.TypeSOA}, []string{"2024010101"}, 3600},
		{Query{"example.com.", dns.TypeNS}, []string{"ns1.example.com."}, 3600},
	}
	var qs []Query
	for _, tt := range tests {
		qs = append(qs, tt.q)
	}
	rs := e.Round(context.Background(), qs)
	for _, tt := range tests {
		t.Run(dns.TypeToString[tt.q.Type]+" "+tt.q.Name, func(t *testing.T) {
			got := rs.Get(tt.q)
			if len(got) != 2 {
				t.Fatalf("got %d responses, want 2 (one authoritative, one resolver)", len(got))
			}
			for i, kind := range []Kind{Authoritative, Recursive} {
				r := got[i]
				if r.Server.Kind != kind {
					t.Errorf("response %d: kind %s, want %s", i, r.Server.Kind, kind)
				}
				if r.Err != nil || r.Condition() != "answer" {
					t.Fatalf("%s: condition %q, err %v", kind, r.Condition(), r.Err)
				}
				if !slices.Equal(r.Values(), tt.values) {
					t.Errorf("%s: values %q, want %q", kind, r.Values(), tt.values)
				}
				if r.TTL() != tt.ttl {
					t.Errorf("%s: TTL %d, want %d", kind, r.TTL(), tt.ttl)
				}
				if r.RTT <= 0 || r.At.IsZero() {
					t.Errorf("%s: RTT %v, At %v: want both set", kind, r.RTT, r.At)
				}
			}
			if !got[0].AA {
				t.Error("authoritative answer without AA")
			}
		})
	}
	for _, q := range auth.seen() {
		if q.RD {
			t.Errorf("authoritative server got RD=1 for %s", q.Name)
		}
	}
	for _, q := range res.seen() {
		if !q.RD {
			t.Errorf("resolver got RD=0 for %s", q.Name)
		}
	}
}

func TestEngineNegative(t *testing.T) {
	lines := append(slices.Clone(exampleZone),
		"neg.test. 60 IN SOA ns1.neg.test. hostmaster.neg.test. 1 7200 3600 1209600 900")
	e, _ := singleServer(t, newZoneData(t, true, lines...).handler, serverOpts{}, Config{Timeout: time.Second})
	tests := []struct {
		name string
		q    Query
		cond string
		ttl  uint32
	}{
		// SOA TTL 3600, MINIMUM 300: min is 300 (RFC 2308 §5).
		{"nxdomain", Query{"nothere.example.com.", dns.TypeTXT}, "nxdomain", 300},
		{"nodata", Query{"example.com.", dns.TypeCNAME}, "nodata", 300},
		{"nodata at empty non-terminal", Query{"deep.example.com.", dns.TypeA}, "nodata", 300},
		// SOA TTL 60 below MINIMUM 900: 60.
		{"nxdomain soa ttl", Query{"x.neg.test.", dns.TypeA}, "nxdomain", 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range e.Round(context.Background(), []Query{tt.q}).Get(tt.q) {
				if r.Err != nil {
					t.Fatalf("%s: %v", r.Server.Kind, r.Err)
				}
				if got := r.Condition(); got != tt.cond {
					t.Errorf("%s: condition %q, want %q", r.Server.Kind, got, tt.cond)
				}
				if got := r.TTL(); got != tt.ttl {
					t.Errorf("%s: negative TTL %d, want %d", r.Server.Kind, got, tt.ttl)
				}
				if v := r.Values(); len(v) != 0 {
					t.Errorf("%s: values %q, want none", r.Server.Kind, v)
				}
			}
		})
	}
}

func TestEngineRcodes(t *testing.T) {
	tests := []struct {
		name      string
		rcode     int
		aa        bool
		auth, rec string
	}{
		{"servfail", dns.RcodeServerFailure, false, "servfail", "servfail"},
		{"refused", dns.RcodeRefused, false, "lame", "refused"},
		{"formerr", dns.RcodeFormatError, true, "error", "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := singleServer(t, rcodeHandler(tt.rcode, tt.aa), serverOpts{}, Config{Timeout: time.Second})
			q := Query{"example.com.", dns.TypeTXT}
			got := e.Round(context.Background(), []Query{q}).Get(q)
			if len(got) != 2 {
				t.Fatalf("got %d responses, want 2", len(got))
			}
			for i, want := range []string{tt.auth, tt.rec} {
				r := got[i]
				if r.Err != nil {
					t.Fatalf("%s: Err %v; a reply with an rcode is not a transport error", r.Server.Kind, r.Err)
				}
				if r.Rcode != tt.rcode {
					t.Errorf("%s: rcode %d, want %d", r.Server.Kind, r.Rcode, tt.rcode)
				}
				if c := r.Condition(); c != want {
					t.Errorf("%s: condition %q, want %q", r.Server.Kind, c, want)
				}
			}
		})
	}
}

func TestEngineLame(t *testing.T) {
	// The "authoritative" server answers like a resolver: no AA bit.
	e, _ := singleServer(t, newZoneData(t, false, exampleZone...).handler, serverOpts{}, Config{Timeout: time.Second})
	for _, q := range []Query{{"example.com.", dns.TypeMX}, {"nothere.example.com.", dns.TypeMX}} {
		got := e.Round(context.Background(), []Query{q}).Get(q)
		if c := got[0].Condition(); c != "lame" {
			t.Errorf("%s: authoritative condition %q, want lame", q.Name, c)
		}
		if c := got[1].Condition(); c == "lame" {
			t.Errorf("%s: resolver without AA is lame; want not", q.Name)
		}
	}
	// A referral: no AA, NS records in the authority section.
	referral := func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		ns, _ := dns.NewRR("example.com. 3600 IN NS ns.elsewhere.test.")
		m.Ns = []dns.RR{ns}
		w.WriteMsg(m)
	}
	e, _ = singleServer(t, referral, serverOpts{}, Config{Timeout: time.Second})
	q := Query{"example.com.", dns.TypeMX}
	if c := e.Round(context.Background(), []Query{q}).Get(q)[0].Condition(); c != "lame" {
		t.Errorf("referral from an authoritative server: condition %q, want lame", c)
	}
}

func TestEngineTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	e, s := singleServer(t, rcodeHandler(dns.RcodeSuccess, true), serverOpts{silent: true}, Config{Timeout: timeout})
	q := Query{"example.com.", dns.TypeTXT}
	start := time.Now()
	got := e.Round(context.Background(), []Query{q}).Get(q)
	elapsed := time.Since(start)
	if elapsed < 2*timeout || elapsed > 2*timeout+500*time.Millisecond {
		t.Errorf("round took %v, want about %v (timeout and one retry)", elapsed, 2*timeout)
	}
	if len(got) != 2 {
		t.Fatalf("got %d responses, want 2: a silent server is reported, never dropped", len(got))
	}
	for _, r := range got {
		if !errors.Is(r.Err, ErrTimeout) {
			t.Fatalf("%s: Err %v, want ErrTimeout", r.Server.Kind, r.Err)
		}
		if msg := r.Err.Error(); !strings.Contains(msg, "timed out after 200ms") {
			t.Errorf("error %q does not say %q", msg, "timed out after 200ms")
		}
		if r.Condition() != "timeout" || r.Values() != nil || r.TTL() != 0 || r.Answer != nil {
			t.Errorf("%s: condition %q values %q ttl %d: a timeout must not look like an answer",
				r.Server.Kind, r.Condition(), r.Values(), r.TTL())
		}
	}
	if n := s.count("example.com.", dns.TypeTXT); n != 4 {
		t.Errorf("server saw %d queries, want 4 (two servers' views, each tried twice)", n)
	}

	e2, s2 := singleServer(t, rcodeHandler(dns.RcodeSuccess, true), serverOpts{silent: true}, Config{Timeout: timeout, Retries: NoRetry})
	r := e2.Lookup(context.Background(), "example.com", dns.TypeTXT)
	if !errors.Is(r.Err, ErrTimeout) || !strings.Contains(r.Err.Error(), "(1 try)") {
		t.Errorf("NoRetry: Err %v, want a timeout after 1 try", r.Err)
	}
	if n := s2.count("example.com.", dns.TypeTXT); n != 1 {
		t.Errorf("NoRetry: server saw %d queries, want 1", n)
	}
}

func TestEngineConnRefused(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	e := NewEngine(Config{Resolvers: []string{addr}, Authoritative: []string{addr}, Timeout: time.Second})
	r := e.Lookup(context.Background(), "example.com.", dns.TypeA)
	if !errors.Is(r.Err, ErrConnRefused) || !strings.Contains(r.Err.Error(), "connection refused") {
		t.Fatalf("Err %v, want connection refused", r.Err)
	}
	if r.Condition() != "error" {
		t.Errorf("condition %q, want error", r.Condition())
	}
}

func TestEngineBadAddress(t *testing.T) {
	// A host name would need the system resolver: refused without a query.
	e := NewEngine(Config{Resolvers: []string{"dns.example.invalid:53"}, Authoritative: []string{"not an address"}})
	q := Query{"example.com.", dns.TypeA}
	for _, r := range e.Round(context.Background(), []Query{q}).Get(q) {
		if !errors.Is(r.Err, ErrBadAddress) {
			t.Errorf("%s %q: Err %v, want ErrBadAddress", r.Server.Kind, r.Server.Addr, r.Err)
		}
	}
}

func TestEngineTruncated(t *testing.T) {
	// 12 TXT records of 200 bytes: about 2.5 kB, more than EDNS0's 1232.
	lines := slices.Clone(exampleZone)
	var want []string
	for i := range 12 {
		v := fmt.Sprintf("%02d", i) + strings.Repeat("x", 198)
		want = append(want, v)
		lines = append(lines, fmt.Sprintf(`big.example.com. 300 IN TXT "%s"`, v))
	}
	e, s := singleServer(t, newZoneData(t, true, lines...).handler, serverOpts{}, Config{Timeout: time.Second, Retries: NoRetry})
	r := e.Lookup(context.Background(), "big.example.com.", dns.TypeTXT)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if !slices.Equal(r.Values(), want) {
		t.Errorf("got %d values, want the whole RRset of %d", len(r.Values()), len(want))
	}
	seen := s.seen()
	if len(seen) != 2 || seen[0].Net != "udp" || seen[1].Net != "tcp" {
		t.Fatalf("server saw %+v, want one UDP query then one TCP query", seen)
	}
	if seen[0].EDNS != 1232 {
		t.Errorf("UDP query's EDNS0 size %d, want 1232", seen[0].EDNS)
	}

	// A small answer truncated anyway (TC set, records dropped): TCP gives it.
	e, s = singleServer(t, newZoneData(t, true, exampleZone...).handler, serverOpts{truncate: true}, Config{Timeout: time.Second})
	r = e.Lookup(context.Background(), "example.com.", dns.TypeMX)
	if r.Err != nil || r.Condition() != "answer" || len(r.Values()) != 2 {
		t.Errorf("after TC: condition %q values %q err %v, want the MX answer over TCP", r.Condition(), r.Values(), r.Err)
	}
	if n := len(s.seen()); n != 2 {
		t.Errorf("server saw %d queries, want 2 (UDP, then TCP)", n)
	}
}

func TestEngineCNAMEChain(t *testing.T) {
	e, _ := singleServer(t, newZoneData(t, true, exampleZone...).handler, serverOpts{}, Config{Timeout: time.Second})
	r := e.Lookup(context.Background(), "alias.example.com.", dns.TypeTXT)
	if r.Err != nil || r.Condition() != "answer" {
		t.Fatalf("condition %q err %v", r.Condition(), r.Err)
	}
	if got := r.Values(); !slices.Equal(got, []string{"at the end"}) {
		t.Errorf("values %q, want the TXT at the end of the chain", got)
	}
	if got := r.Target(); got != "target.example.com." {
		t.Errorf("Target %q, want target.example.com.", got)
	}
	if len(r.Answer) != 3 {
		t.Errorf("answer has %d records, want the whole chain (3)", len(r.Answer))
	}
	if r.TTL() != 30 {
		t.Errorf("TTL %d, want 30 (the TXT's)", r.TTL())
	}
	// Asking for the CNAME itself does not follow it.
	r = e.Lookup(context.Background(), "alias.example.com.", dns.TypeCNAME)
	if got := r.Values(); !slices.Equal(got, []string{"alias2.example.com."}) {
		t.Errorf("CNAME values %q, want alias2.example.com.", got)
	}
}

func TestEngineConcurrency(t *testing.T) {
	const bound = 3
	e, s := singleServer(t, newZoneData(t, true, exampleZone...).handler,
		serverOpts{delay: 30 * time.Millisecond}, Config{Timeout: time.Second, Concurrency: bound})
	var qs []Query
	for i := range 10 {
		qs = append(qs, Query{fmt.Sprintf("n%d.example.com.", i), dns.TypeA})
	}
	rs := e.Round(context.Background(), qs)
	for _, q := range qs {
		for _, r := range rs.Get(q) {
			if r.Condition() != "nxdomain" {
				t.Errorf("%s %s: %q %v", q.Name, r.Server.Kind, r.Condition(), r.Err)
			}
		}
	}
	if m := s.maxInflight.Load(); m > bound || m < 2 {
		t.Errorf("at most %d queries were in flight at the server, want between 2 and %d", m, bound)
	}
}

func TestEngineCancel(t *testing.T) {
	e, _ := singleServer(t, rcodeHandler(dns.RcodeSuccess, true), serverOpts{silent: true},
		Config{Timeout: 5 * time.Second, Concurrency: 2})
	var qs []Query
	for i := range 8 {
		qs = append(qs, Query{fmt.Sprintf("n%d.example.com.", i), dns.TypeA})
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	rs := e.Round(ctx, qs)
	if d := time.Since(start); d > time.Second {
		t.Errorf("round took %v after cancellation at 100ms", d)
	}
	for _, q := range qs {
		got := rs.Get(q)
		if len(got) != 2 {
			t.Fatalf("%s: %d responses, want 2", q.Name, len(got))
		}
		for _, r := range got {
			if !errors.Is(r.Err, ErrCanceled) || !errors.Is(r.Err, context.Canceled) {
				t.Errorf("%s: Err %v, want ErrCanceled wrapping context.Canceled", q.Name, r.Err)
			}
		}
	}
}

func TestEngineRoundFanout(t *testing.T) {
	zone := newZoneData(t, true, exampleZone...)
	resolverZone := newZoneData(t, false, exampleZone...)
	var auth, res []*testServer
	cfg := Config{Timeout: time.Second}
	for range 2 {
		a := startServer(t, zone.handler, serverOpts{})
		r := startServer(t, resolverZone.handler, serverOpts{})
		auth, res = append(auth, a), append(res, r)
		cfg.Authoritative = append(cfg.Authoritative, a.Addr)
		cfg.Resolvers = append(cfg.Resolvers, r.Addr)
	}
	e := NewEngine(cfg)
	qs := []Query{
		{"example.com.", dns.TypeMX},
		{"example.com.", dns.TypeTXT},
		{"_dmarc.example.com.", dns.TypeTXT},
		{"example.com.", dns.TypeMX}, // a duplicate is sent once
	}
	rs := e.Round(context.Background(), qs)
	for _, q := range qs[:3] {
		got := rs.Get(q)
		var addrs []string
		for _, r := range got {
			addrs = append(addrs, r.Server.Addr)
			if r.Condition() != "answer" {
				t.Errorf("%s %s: %s", q.Name, r.Server.Addr, r.Condition())
			}
		}
		want := append(slices.Clone(cfg.Authoritative), cfg.Resolvers...)
		if !slices.Equal(addrs, want) {
			t.Errorf("%s %s: servers %v, want %v (authoritative first, then resolvers, in order)",
				q.Name, dns.TypeToString[q.Type], addrs, want)
		}
		for _, s := range append(slices.Clone(auth), res...) {
			if n := s.count(q.Name, q.Type); n != 1 {
				t.Errorf("%s saw %s %s %d times, want once", s.Addr, q.Name, dns.TypeToString[q.Type], n)
			}
		}
	}
}

func TestEngineLookup(t *testing.T) {
	bad := startServer(t, rcodeHandler(dns.RcodeServerFailure, false), serverOpts{})
	good := startServer(t, newZoneData(t, false, exampleZone...).handler, serverOpts{})
	e := NewEngine(Config{Resolvers: []string{bad.Addr, good.Addr}, Timeout: time.Second})
	r := e.Lookup(context.Background(), "example.com", dns.TypeMX)
	if r.Server.Addr != good.Addr || r.Condition() != "answer" {
		t.Errorf("Lookup gave %q from %s, want the answer of the second resolver", r.Condition(), r.Server.Addr)
	}
	if r.Query.Name != "example.com." {
		t.Errorf("query name %q, want it fully qualified", r.Query.Name)
	}
	// An NXDOMAIN is an answer: the next resolver is not asked.
	e = NewEngine(Config{Resolvers: []string{good.Addr, bad.Addr}, Timeout: time.Second})
	before := len(bad.seen())
	if r := e.Lookup(context.Background(), "nothere.example.com.", dns.TypeMX); r.Condition() != "nxdomain" {
		t.Errorf("condition %q, want nxdomain", r.Condition())
	}
	if len(bad.seen()) != before {
		t.Error("Lookup asked the next resolver after an NXDOMAIN")
	}
	// Nobody answers: the last failure.
	e = NewEngine(Config{Resolvers: []string{bad.Addr, bad.Addr}, Timeout: time.Second})
	if r := e.Lookup(context.Background(), "example.com.", dns.TypeMX); r.Condition() != "servfail" {
		t.Errorf("condition %q, want servfail", r.Condition())
	}
}

func TestEngineEDNSFallback(t *testing.T) {
	// An old server answering FORMERR to EDNS0 gets the query again without it.
	zone := newZoneData(t, true, exampleZone...)
	h := func(w dns.ResponseWriter, req *dns.Msg) {
		if req.IsEdns0() != nil {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeFormatError)
			w.WriteMsg(m)
			return
		}
		zone.handler(w, req)
	}
	e, _ := singleServer(t, h, serverOpts{}, Config{Timeout: time.Second})
	if r := e.Lookup(context.Background(), "example.com.", dns.TypeMX); r.Condition() != "answer" {
		t.Errorf("condition %q err %v, want answer", r.Condition(), r.Err)
	}
}

func TestEngineConfig(t *testing.T) {
	e := NewEngine(Config{Resolvers: []string{"192.0.2.1", "2001:db8::1", "[2001:db8::2]", "192.0.2.3:5353"}})
	var got []string
	for _, s := range e.resolvers {
		got = append(got, s.Addr)
	}
	want := []string{"192.0.2.1:53", "[2001:db8::1]:53", "[2001:db8::2]:53", "192.0.2.3:5353"}
	if !slices.Equal(got, want) {
		t.Errorf("resolvers %q, want %q", got, want)
	}
	if e.timeout != DefaultTimeout || e.tries != 2 || cap(e.sem) != DefaultConcurrency || e.udpSize != 1232 {
		t.Errorf("defaults: timeout %v tries %d concurrency %d udp %d", e.timeout, e.tries, cap(e.sem), e.udpSize)
	}
	if len(NewEngine(Config{}).resolvers) != len(DefaultResolvers) {
		t.Error("no resolvers configured: want DefaultResolvers")
	}
	srv, err := NewEngine(Config{Authoritative: []string{"192.0.2.53"}}).Servers(context.Background(), "example.com.")
	if err != nil || len(srv) != 1 || srv[0].Addr != "192.0.2.53:53" || srv[0].Kind != Authoritative {
		t.Errorf("Servers with Config.Authoritative: %v, %v", srv, err)
	}
}

func TestNoRoute6(t *testing.T) {
	ok := Response{Server: Server{Addr: "192.0.2.1:53"}}
	unreach6 := Response{Server: Server{Addr: "[2001:db8::1]:53"}, Err: fmt.Errorf("%w: network is unreachable", ErrUnreachable)}
	unreach4 := Response{Server: Server{Addr: "192.0.2.2:53"}, Err: fmt.Errorf("%w: network is unreachable", ErrUnreachable)}
	if got := noRoute6([]Response{ok, unreach6}); len(got) != 1 || got[0].Server != ok.Server {
		t.Errorf("an unreachable IPv6 server beside an answering one should be dropped: %+v", got)
	}
	if got := noRoute6([]Response{unreach6}); len(got) != 1 {
		t.Errorf("with nothing else answering the failure must stay (no green on silence): %+v", got)
	}
	if got := noRoute6([]Response{ok, unreach4}); len(got) != 2 {
		t.Errorf("an unreachable IPv4 server is a failure: %+v", got)
	}
}
