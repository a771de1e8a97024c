package dnscheck

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// serverOpts shapes a test server's behaviour.
type serverOpts struct {
	// addr is the listen address; "" means 127.0.0.1:0. A fixed port lets
	// servers on 127.0.0.2, 127.0.0.3... share one (Config.DiscoveryPort).
	addr string
	// delay holds every answer back.
	delay time.Duration
	// truncate sets TC on every UDP reply and drops its records.
	truncate bool
	// silent never answers.
	silent bool
}

// seenQuery is one query a test server received.
type seenQuery struct {
	Name string
	Type uint16
	Net  string // "udp" or "tcp"
	RD   bool
	EDNS uint16 // the OPT record's UDP size; 0 without OPT
}

// testServer is a real miekg/dns server pair (UDP and TCP on one port).
type testServer struct {
	Addr string

	mu      sync.Mutex
	queries []seenQuery

	inflight, maxInflight atomic.Int64
}

// seen returns the queries received so far.
func (s *testServer) seen() []seenQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenQuery(nil), s.queries...)
}

// count returns how many queries for name and qtype arrived.
func (s *testServer) count(name string, qtype uint16) int {
	n := 0
	for _, q := range s.seen() {
		if strings.EqualFold(q.Name, name) && q.Type == qtype {
			n++
		}
	}
	return n
}

// startServer starts a UDP+TCP server pair answering with h (wrapped to
// record queries, apply opts and truncate UDP replies to the client's
// buffer size) and stops it when the test ends.
func startServer(t testing.TB, h dns.HandlerFunc, o serverOpts) *testServer {
	t.Helper()
	if o.addr == "" {
		o.addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", o.addr, err)
	}
	var pc net.PacketConn
	var l net.Listener
	for range 20 {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			if host != "127.0.0.1" {
				t.Skipf("cannot listen on %s (loopback alias missing?): %v", host, err)
			}
			t.Fatalf("listen udp: %v", err)
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		l, err = net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			break
		}
		pc.Close()
		if port != "0" {
			t.Fatalf("listen tcp: %v", err)
		}
	}
	if err != nil {
		t.Fatalf("listen tcp: %v", err)
	}

	ts := &testServer{Addr: pc.LocalAddr().String()}
	done := make(chan struct{})
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, req *dns.Msg) {
		n := ts.inflight.Add(1)
		// Leave the count before the reply goes out: the client may send
		// its next query as soon as it has the reply.
		var leave sync.Once
		left := func() { leave.Do(func() { ts.inflight.Add(-1) }) }
		defer left()
		for {
			m := ts.maxInflight.Load()
			if n <= m || ts.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		sq := seenQuery{Net: w.LocalAddr().Network(), RD: req.RecursionDesired}
		if len(req.Question) == 1 {
			sq.Name, sq.Type = req.Question[0].Name, req.Question[0].Qtype
		}
		if opt := req.IsEdns0(); opt != nil {
			sq.EDNS = opt.UDPSize()
		}
		ts.mu.Lock()
		ts.queries = append(ts.queries, sq)
		ts.mu.Unlock()
		if o.silent {
			<-done
			return
		}
		if o.delay > 0 {
			select {
			case <-time.After(o.delay):
			case <-done:
				return
			}
		}
		h(&truncWriter{ResponseWriter: w, req: req, force: o.truncate, before: left}, req)
	})

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
		close(done)
		udp.Shutdown()
		tcp.Shutdown()
	})
	return ts
}

// truncWriter truncates UDP replies as a real server does: to the
// client's EDNS0 buffer size (512 without OPT), or always when force is set.
type truncWriter struct {
	dns.ResponseWriter
	req    *dns.Msg
	force  bool
	before func() // called before the reply is written
}

func (w *truncWriter) WriteMsg(m *dns.Msg) error {
	if w.before != nil {
		w.before()
	}
	if w.LocalAddr().Network() == "udp" {
		if w.force {
			m = m.Copy()
			m.Truncated = true
			m.Answer, m.Ns = nil, nil
		} else {
			size := dns.MinMsgSize
			if opt := w.req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
	}
	return w.ResponseWriter.WriteMsg(m)
}

// zoneData is the data of a fake DNS server: it answers from rrs like an
// authoritative server (aa) or a resolver that already knows everything
// (following CNAMEs across zones in both roles).
type zoneData struct {
	rrs []dns.RR
	aa  bool
	// rcodes forces an rcode for names at or under a key ("servfail.test.").
	rcodes map[string]int
}

// newZoneData parses zone lines (TTL defaults to 3600).
func newZoneData(t testing.TB, aa bool, lines ...string) *zoneData {
	t.Helper()
	z := &zoneData{aa: aa, rcodes: map[string]int{}}
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("zone line %q: %v", l, err)
		}
		z.rrs = append(z.rrs, rr)
	}
	return z
}

// soaFor returns the SOA of the zone holding name (longest apex), nil when
// the data holds no such zone.
func (z *zoneData) soaFor(name string) *dns.SOA {
	var best *dns.SOA
	for _, rr := range z.rrs {
		if s, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(s.Hdr.Name, name) {
			if best == nil || dns.CountLabel(s.Hdr.Name) > dns.CountLabel(best.Hdr.Name) {
				best = s
			}
		}
	}
	return best
}

func (z *zoneData) handler(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = z.aa
	m.RecursionAvailable = !z.aa
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
	}
	q := req.Question[0]
	for suffix, rc := range z.rcodes {
		if dns.IsSubDomain(suffix, q.Name) {
			m.Rcode = rc
			m.Authoritative = false
			w.WriteMsg(m)
			return
		}
	}
	if z.soaFor(q.Name) == nil {
		m.Rcode = dns.RcodeRefused
		m.Authoritative = false
		w.WriteMsg(m)
		return
	}
	name := q.Name
	for range 10 {
		var found, cname []dns.RR
		exists := false
		for _, rr := range z.rrs {
			h := rr.Header()
			if dns.IsSubDomain(name, h.Name) {
				exists = true
			}
			if !strings.EqualFold(h.Name, name) {
				continue
			}
			switch {
			case h.Rrtype == q.Qtype:
				found = append(found, dns.Copy(rr))
			case h.Rrtype == dns.TypeCNAME:
				cname = append(cname, dns.Copy(rr))
			}
		}
		switch {
		case len(found) > 0:
			m.Answer = append(m.Answer, found...)
		case len(cname) > 0:
			m.Answer = append(m.Answer, cname[0])
			name = cname[0].(*dns.CNAME).Target
			if z.soaFor(name) != nil {
				continue
			}
		default:
			if soa := z.soaFor(name); soa != nil {
				m.Ns = append(m.Ns, dns.Copy(soa))
			}
			if !exists {
				m.Rcode = dns.RcodeNameError
			}
		}
		break
	}
	w.WriteMsg(m)
}

// rcodeHandler answers every query with rcode and no records.
func rcodeHandler(rcode int, aa bool) dns.HandlerFunc {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		m.Authoritative = aa
		w.WriteMsg(m)
	}
}
