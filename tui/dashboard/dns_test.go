package dashboard

import (
	"crypto/ed25519"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/records"
)

// flipZone is the data of the test's DNS servers: what the authoritative
// servers serve and what the resolver has cached. A test changes it
// between rounds, as an admin publishing records would.
type flipZone struct {
	mu        sync.Mutex
	auth, res []dns.RR
}

// set replaces the data with zone lines.
func (z *flipZone) set(t testing.TB, auth, res []string) {
	t.Helper()
	parse := func(lines []string) []dns.RR {
		var out []dns.RR
		for _, l := range lines {
			rr, err := dns.NewRR(l)
			if err != nil || rr == nil {
				t.Fatalf("zone line %q: %v", l, err)
			}
			out = append(out, rr)
		}
		return out
	}
	a, r := parse(auth), parse(res)
	z.mu.Lock()
	defer z.mu.Unlock()
	z.auth, z.res = a, r
}

// handler answers from the authoritative data (aa) or the resolver's.
func (z *flipZone) handler(aa bool) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		z.mu.Lock()
		rrs := z.res
		if aa {
			rrs = z.auth
		}
		z.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = aa
		m.RecursionAvailable = !aa
		if opt := req.IsEdns0(); opt != nil {
			m.SetEdns0(opt.UDPSize(), false)
		}
		q := req.Question[0]
		var soa dns.RR
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeSOA && dns.IsSubDomain(rr.Header().Name, q.Name) {
				soa = rr
			}
		}
		if soa == nil {
			m.Rcode = dns.RcodeRefused
			m.Authoritative = false
			w.WriteMsg(m)
			return
		}
		exists := false
		for _, rr := range rrs {
			h := rr.Header()
			if dns.IsSubDomain(q.Name, h.Name) {
				exists = true
			}
			if strings.EqualFold(h.Name, q.Name) && h.Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, dns.Copy(soa))
			if !exists {
				m.Rcode = dns.RcodeNameError
			}
		}
		w.WriteMsg(m)
	}
}

// startDNS starts a miekg/dns server pair (UDP and TCP on one loopback
// port) answering with h, stopped when the test ends. It returns the
// address.
func startDNS(t testing.TB, h dns.HandlerFunc) string {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	var err error
	for range 20 {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen udp: %v", err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", h)
	var wg sync.WaitGroup
	wg.Add(2)
	udp := &dns.Server{PacketConn: pc, Handler: mux, NotifyStartedFunc: wg.Done}
	tcp := &dns.Server{Listener: l, Handler: mux, NotifyStartedFunc: wg.Done}
	for _, s := range []*dns.Server{udp, tcp} {
		go func() {
			if err := s.ActivateAndServe(); err != nil {
				t.Logf("test server: %v", err)
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return pc.LocalAddr().String()
}

// testWorld is two authoritative servers and a resolver on loopback,
// sharing one flipZone, and a checker pointed at them.
type testWorld struct {
	zone    *flipZone
	checker *dnscheck.Checker
	exps    []dnscheck.Expect
	// good is the zone as it should be; stale is the first state: DMARC
	// missing everywhere, the resolver still caching an old SPF record.
	good, staleAuth, staleRes []string
}

func newTestWorld(t *testing.T) *testWorld {
	t.Helper()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public()
	dk, err := records.NewDKIM(key)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{
		"example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 60",
		"example.com. 60 IN NS ns1.example.com.",
		"example.com. 60 IN NS ns2.example.com.",
		"example.com. 60 IN MX 10 mail.example.com.",
		records.Record{Name: "s1._domainkey.example.com.", Type: records.TypeTXT, TTL: 60, Value: dk.String()}.ZoneLine(""),
	}
	spf := `example.com. 60 IN TXT "v=spf1 ip4:192.0.2.10 -all"`
	oldSPF := `example.com. 300 IN TXT "v=spf1 ip4:192.0.2.99 -all"`
	dmarc := `_dmarc.example.com. 60 IN TXT "v=DMARC1; p=reject"`
	w := &testWorld{
		zone:      &flipZone{},
		good:      append(append([]string(nil), base...), spf, dmarc),
		staleAuth: append(append([]string(nil), base...), spf),
		staleRes:  append(append([]string(nil), base...), oldSPF),
		exps: []dnscheck.Expect{{
			Domain:    "example.com",
			MX:        []string{"mail.example.com"},
			Selectors: []dnscheck.Selector{{Name: "s1"}},
		}},
	}
	w.zone.set(t, w.staleAuth, w.staleRes)
	ns1 := startDNS(t, w.zone.handler(true))
	ns2 := startDNS(t, w.zone.handler(true))
	res := startDNS(t, w.zone.handler(false))
	w.checker = dnscheck.New(dnscheck.Config{
		Authoritative: []string{ns1, ns2},
		Resolvers:     []string{res},
		Timeout:       300 * time.Millisecond,
		Retries:       dnscheck.NoRetry,
	})
	return w
}

// fix publishes the right records everywhere.
func (w *testWorld) fix(t testing.TB) { w.zone.set(t, w.good, w.good) }

// statusOf returns the status of check id in rep ("" when absent).
func statusOf(rep dnscheck.Report, id string) dnscheck.Status {
	for _, r := range rep.Checks {
		if r.ID == id {
			return r.Status
		}
	}
	return ""
}
