package dnscheck

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// discoveryData is what the resolver knows: example.com served by
// ns1/ns2.example.com (127.0.0.2, 127.0.0.3) and an NS name that does not
// exist; a DKIM selector that is a CNAME into another zone; a reverse zone.
var discoveryData = []string{
	"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 7 7200 3600 1209600 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN NS ns2.example.com.",
	"example.com. 3600 IN NS ns3.broken.test.",
	"ns1.example.com. 3600 IN A 127.0.0.2",
	"ns2.example.com. 3600 IN A 127.0.0.3",
	"example.com. 3600 IN MX 10 mx.example.com.",
	`_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=none"`,
	"sel._domainkey.example.com. 3600 IN CNAME sel.dkim.provider.test.",
	"provider.test. 3600 IN SOA ns1.provider.test. hostmaster.provider.test. 1 7200 3600 1209600 300",
	"provider.test. 3600 IN NS ns1.example.com.",
	`sel.dkim.provider.test. 3600 IN TXT "v=DKIM1; k=rsa; p=AAAA"`,
	"broken.test. 3600 IN SOA ns1.broken.test. hostmaster.broken.test. 1 7200 3600 1209600 300",
	"nons.test. 3600 IN SOA ns1.nons.test. hostmaster.nons.test. 1 7200 3600 1209600 300",
	"2.0.192.in-addr.arpa. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300",
	"2.0.192.in-addr.arpa. 3600 IN NS ns1.example.com.",
	"5.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com.",
}

// discoverySetup starts a resolver on 127.0.0.1:P and example.com's two
// name servers on 127.0.0.2:P and 127.0.0.3:P.
func discoverySetup(t *testing.T, delay time.Duration) (*Engine, *testServer, []*testServer) {
	t.Helper()
	rz := newZoneData(t, false, discoveryData...)
	rz.rcodes["servfail.test."] = dns.RcodeServerFailure
	res := startServer(t, rz.handler, serverOpts{delay: delay})
	_, port, _ := net.SplitHostPort(res.Addr)
	az := newZoneData(t, true, discoveryData...)
	var auth []*testServer
	for _, host := range []string{"127.0.0.2", "127.0.0.3"} {
		auth = append(auth, startServer(t, az.handler, serverOpts{addr: net.JoinHostPort(host, port)}))
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(Config{Resolvers: []string{res.Addr}, DiscoveryPort: p, Timeout: time.Second})
	return e, res, auth
}

func TestDiscoverZone(t *testing.T) {
	e, _, _ := discoverySetup(t, 0)
	tests := []struct{ name, zone string }{
		{"example.com.", "example.com."},
		{"Example.COM", "example.com."},
		{"_dmarc.example.com.", "example.com."},
		{"nothere.example.com.", "example.com."},
		// A CNAME is in the zone of its owner, not of its target.
		{"sel._domainkey.example.com.", "example.com."},
		{"sel.dkim.provider.test.", "provider.test."},
		{"5.2.0.192.in-addr.arpa.", "2.0.192.in-addr.arpa."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.Zone(context.Background(), tt.name)
			if err != nil || got != tt.zone {
				t.Errorf("Zone(%q) = %q, %v; want %q", tt.name, got, err, tt.zone)
			}
		})
	}
	if _, err := e.Zone(context.Background(), "x.servfail.test."); !errors.Is(err, ErrNoZone) || !strings.Contains(err.Error(), "servfail") {
		t.Errorf("zone behind SERVFAIL: err %v, want ErrNoZone saying servfail", err)
	}
}

func TestDiscoverServers(t *testing.T) {
	e, _, auth := discoverySetup(t, 0)
	got, err := e.Servers(context.Background(), "example.com.")
	want := []Server{
		{Addr: auth[0].Addr, Kind: Authoritative, Name: "ns1.example.com."},
		{Addr: auth[1].Addr, Kind: Authoritative, Name: "ns2.example.com."},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Servers = %v, want %v", got, want)
	}
	if !errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), "ns3.broken.test.") {
		t.Errorf("err %v, want ErrNoAddress naming ns3.broken.test.", err)
	}
	if _, err := e.Servers(context.Background(), "nons.test."); !errors.Is(err, ErrNoServers) {
		t.Errorf("zone without NS: err %v, want ErrNoServers", err)
	}
}

func TestDiscoverRound(t *testing.T) {
	e, res, auth := discoverySetup(t, 0)
	qs := []Query{
		{"example.com.", dns.TypeMX},
		{"_dmarc.example.com.", dns.TypeTXT},
		{"sel._domainkey.example.com.", dns.TypeTXT},
		{"5.2.0.192.in-addr.arpa.", dns.TypePTR},
		{"x.servfail.test.", dns.TypeTXT},
	}
	var wg sync.WaitGroup
	rounds := make([]*Responses, 5)
	for i := range rounds {
		wg.Go(func() { rounds[i] = e.Round(context.Background(), qs) })
	}
	wg.Wait()

	for _, rs := range rounds {
		// example.com: ns1, ns2, the NS name without address, the resolver.
		for _, q := range qs[:3] {
			got := rs.Get(q)
			if len(got) != 4 {
				t.Fatalf("%s: %d responses, want 4", q.Name, len(got))
			}
			for i, s := range auth {
				if got[i].Server.Addr != s.Addr || got[i].Condition() != "answer" {
					t.Errorf("%s: response %d from %s: %s %v", q.Name, i, got[i].Server.Addr, got[i].Condition(), got[i].Err)
				}
			}
			bad := got[2]
			if bad.Server.Name != "ns3.broken.test." || !errors.Is(bad.Err, ErrNoAddress) || bad.Condition() != "error" || bad.Query != q {
				t.Errorf("%s: NS without address reported as %+v, want an error response", q.Name, bad)
			}
			if got[3].Server.Kind != Recursive || got[3].Condition() != "answer" {
				t.Errorf("%s: resolver response %+v", q.Name, got[3])
			}
		}
		// The reverse zone has one name server, ns1.
		if got := rs.Get(qs[3]); len(got) != 2 || got[0].Server.Name != "ns1.example.com." || !slices.Equal(got[0].Values(), []string{"mail.example.com."}) {
			t.Errorf("PTR responses %+v", got)
		}
		// The zone is not found: a pseudo-server says so.
		got := rs.Get(qs[4])
		if len(got) != 2 || !errors.Is(got[0].Err, ErrNoZone) || got[0].Server.Kind != Authoritative || got[0].Server.Addr != "" {
			t.Errorf("undiscoverable zone: responses %+v, want a pseudo-server with ErrNoZone", got)
		}
	}

	// Discovery is shared and cached: one SOA query per name, one NS query
	// per zone, one A and one AAAA query per name server, across 5 rounds.
	for _, c := range []struct {
		name  string
		qtype uint16
	}{
		{"example.com.", dns.TypeSOA},
		{"_dmarc.example.com.", dns.TypeSOA},
		{"sel._domainkey.example.com.", dns.TypeSOA},
		{"5.2.0.192.in-addr.arpa.", dns.TypeSOA},
		{"example.com.", dns.TypeNS},
		{"2.0.192.in-addr.arpa.", dns.TypeNS},
		{"ns1.example.com.", dns.TypeA},
		{"ns1.example.com.", dns.TypeAAAA},
		{"ns2.example.com.", dns.TypeA},
		{"ns3.broken.test.", dns.TypeA},
	} {
		if n := res.count(c.name, c.qtype); n != 1 {
			t.Errorf("resolver saw %s %s %d times, want once", c.name, dns.TypeToString[c.qtype], n)
		}
	}
	// A failed discovery is not cached: each round tried again.
	if n := res.count("x.servfail.test.", dns.TypeSOA); n < 1 {
		t.Errorf("resolver saw the failing SOA query %d times", n)
	}
	for _, s := range auth {
		for _, q := range s.seen() {
			if q.RD || q.Type == dns.TypeSOA && q.Name != "example.com." {
				t.Errorf("%s got %+v: want only round queries, RD=0", s.Addr, q)
			}
		}
	}
}

func TestDiscoverCanceledCaller(t *testing.T) {
	// The first caller's context ends during the shared lookup; a second
	// caller waiting on it with a live context still gets the zone.
	e, res, _ := discoverySetup(t, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var err1, err2 error
	var zone2 string
	wg.Go(func() { _, err1 = e.Zone(ctx, "example.com.") })
	time.Sleep(10 * time.Millisecond)
	wg.Go(func() { zone2, err2 = e.Zone(context.Background(), "example.com.") })
	wg.Wait()
	if !errors.Is(err1, ErrCanceled) {
		t.Errorf("canceled caller: err %v, want ErrCanceled", err1)
	}
	if err2 != nil || zone2 != "example.com." {
		t.Errorf("live caller: %q, %v; want example.com.", zone2, err2)
	}
	if n := res.count("example.com.", dns.TypeSOA); n != 2 {
		t.Errorf("resolver saw %d SOA queries, want 2 (the canceled lookup is not cached)", n)
	}
}
