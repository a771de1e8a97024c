package dnscheck

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkRound is one domain's round: 10 queries to 2 authoritative
// servers (discovery overridden) and 2 resolvers, each answering after
// 50 ms. A round should take one round trip, about 50 ms.
func BenchmarkRound(b *testing.B) {
	const delay = 50 * time.Millisecond
	zone := newZoneData(b, true, exampleZone...)
	resolverZone := newZoneData(b, false, exampleZone...)
	cfg := Config{Timeout: time.Second}
	for range 2 {
		cfg.Authoritative = append(cfg.Authoritative, startServer(b, zone.handler, serverOpts{delay: delay}).Addr)
		cfg.Resolvers = append(cfg.Resolvers, startServer(b, resolverZone.handler, serverOpts{delay: delay}).Addr)
	}
	e := NewEngine(cfg)
	qs := []Query{
		{"mail.example.com.", dns.TypeA},
		{"mail.example.com.", dns.TypeAAAA},
		{"1.2.0.192.in-addr.arpa.", dns.TypePTR},
		{"example.com.", dns.TypeMX},
		{"example.com.", dns.TypeTXT},
		{"_dmarc.example.com.", dns.TypeTXT},
		{"sel._domainkey.example.com.", dns.TypeTXT},
		{"default._domainkey.example.com.", dns.TypeTXT},
		{"example.com.", dns.TypeNS},
		{"example.com.", dns.TypeSOA},
	}
	b.ReportAllocs()
	for b.Loop() {
		rs := e.Round(context.Background(), qs)
		for _, q := range qs {
			for _, r := range rs.Get(q) {
				if r.Err != nil {
					b.Fatalf("%s %s: %v", q.Name, r.Server.Addr, r.Err)
				}
			}
		}
	}
}
