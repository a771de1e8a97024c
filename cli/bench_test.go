package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/internal/testdaemons"
)

// slowServer is an authoritative miekg/dns server on 127.0.0.1:0 that
// answers from zone text after delay, over UDP and TCP.
func slowServer(b *testing.B, zone string, delay time.Duration) string {
	b.Helper()
	rrs := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k := strings.ToLower(rr.Header().Name) + "/" + dns.TypeToString[rr.Header().Rrtype]
		rrs[k] = append(rrs[k], rr)
	}
	if err := zp.Err(); err != nil {
		b.Fatal(err)
	}
	names := map[string]bool{}
	var soa dns.RR
	for k, v := range rrs {
		names[strings.SplitN(k, "/", 2)[0]] = true
		if strings.HasSuffix(k, "/SOA") {
			soa = v[0]
		}
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		time.Sleep(delay)
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		m.Answer = rrs[name+"/"+dns.TypeToString[q.Qtype]]
		if len(m.Answer) == 0 {
			m.Ns = []dns.RR{soa}
			if !names[name] {
				m.Rcode = dns.RcodeNameError
			}
		}
		if o := r.IsEdns0(); o != nil {
			m.SetEdns0(o.UDPSize(), false)
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: mux}, {Listener: ln, Handler: mux}} {
		var started sync.WaitGroup
		started.Add(1)
		s.NotifyStartedFunc = started.Done
		go func() { _ = s.ActivateAndServe() }()
		started.Wait()
		b.Cleanup(func() { _ = s.Shutdown() })
	}
	return pc.LocalAddr().String()
}

const benchZone = `$ORIGIN example.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 127.0.0.1
@ MX 10 mail
mail A 203.0.113.10
@ TXT "v=spf1 ip4:203.0.113.10 ~all"
_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"
s2026._domainkey TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1GxympSI5Exg054jlkQ0nv6H9BQcuwhsixIteC5UH4L5JI3brBuCcxSzPTrZw+oEX+Scj1YWPaKh//z+yZDxOmIBgGr0F2NuTNbIhJzNGtgpwX5TUlNSybEXNoiG7G5/TtrQyXfuGI+pQ36kmgZzY56N4/sqpnihqUGysYDFhrBhl7PYWPhxmGLpf1pW3BFT/" "XSJZMRn0lVPRXCNc/nitHw8wib5Gc40rII2tQvcFSTzFSNRhhuwIpGcVajwUKujbGAvchuT4NgyUb7Apj11ikgs6aqJk+JcPDhyL0IxacLQzuMBkPmuHkr+71dS3TOZ2RY6NPBovAK1LD/mAOxT7QIDAQAB"
`

// BenchmarkCheckProcess times the whole `sendready check` process for one
// domain, discovery overridden, with two authoritative servers and two
// resolvers that each answer every query after 50 ms. One round trip is
// 50 ms; the target for the process is ≤ 125 ms.
func BenchmarkCheckProcess(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "sendready")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sendready").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var servers []string
	for range 4 {
		servers = append(servers, slowServer(b, benchZone, 50*time.Millisecond))
	}
	args := []string{"check", "--json", "--domain", "example.test", "--hostname", "mail.example.test",
		"--ip", "203.0.113.10", "--mx", "mail.example.test", "--selector", "s2026",
		"--authoritative", servers[0], "--authoritative", servers[1],
		"--resolver", servers[2], "--resolver", servers[3]}
	// Once, untimed: the run checks every record (the PTR has no zone here,
	// so ptr fails; everything else passes).
	out, _ := exec.Command(bin, args...).Output()
	var rep dnscheck.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	for _, r := range rep.Checks {
		if r.ID != dnscheck.CheckPTR && (r.Status == dnscheck.StatusFail || r.Status == dnscheck.StatusPending) {
			b.Fatalf("%s: %+v", r.ID, r)
		}
	}
	if len(rep.Checks) < 9 {
		b.Fatalf("only %d checks", len(rep.Checks))
	}
	for b.Loop() {
		out, err := exec.Command(bin, args...).Output()
		if err != nil && !strings.Contains(string(out), `"status"`) {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}

// BenchmarkCheck1000Domains checks 1,000 domains in one round against a
// real Knot on loopback serving all of them (target ≤ 10 s on 2 cores).
func BenchmarkCheck1000Domains(b *testing.B) {
	testdaemons.Require(b, "knotd")
	const n = 1000
	zones := map[string]string{}
	var exps []dnscheck.Expect
	body := benchZone[strings.Index(benchZone, "@ MX"):]
	for i := range n {
		d := fmt.Sprintf("d%04d.test", i)
		zones[d] = "$ORIGIN " + d + ".\n" + body
		exps = append(exps, dnscheck.Expect{Domain: d, MX: []string{"mail." + d}, Selectors: []dnscheck.Selector{{Name: "s2026"}}})
	}
	knot := testdaemons.StartKnot(b, zones)
	c := dnscheck.New(dnscheck.Config{Authoritative: []string{knot.Addr}, Resolvers: []string{knot.Addr}})
	b.ResetTimer()
	for b.Loop() {
		rep := c.Round(context.Background(), exps)
		if rep.Status == dnscheck.StatusFail {
			for _, r := range rep.Checks {
				if r.Status == dnscheck.StatusFail {
					b.Fatalf("%+v", r)
				}
			}
		}
	}
}
