package dnsrecords

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"testing"

	"github.com/sendready/sendready/records"
)

// testRecords is what dnszone makes for example.com served by
// mail.example.com at 192.0.2.10 and 2001:db8::10: MX, SPF, a 2048-bit
// DKIM key, DMARC, the host's A, AAAA and HELO SPF, and two PTR requests.
func testRecords(t testing.TB) []records.Record {
	t.Helper()
	data, err := os.ReadFile("testdata/rsa2048a.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := records.NewDKIM(key)
	if err != nil {
		t.Fatal(err)
	}
	return []records.Record{
		{Zone: "example.com", Name: "example.com.", Type: records.TypeMX, TTL: 3600, Value: "mail.example.com.", Priority: 10, Comment: "Mail for example.com is delivered to mail.example.com."},
		{Zone: "example.com", Name: "example.com.", Type: records.TypeTXT, TTL: 3600, Value: "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 ~all", Comment: "SPF: the hosts that may send mail from @example.com: this server's addresses; ~all soft-fails every other host."},
		{Zone: "example.com", Name: "s2026._domainkey.example.com.", Type: records.TypeTXT, TTL: 3600, Value: dk.String(), Comment: "DKIM: the public half of a 2048-bit RSA key for selector s2026. OpenDKIM on this server signs mail from example.com with the private key; receivers check the signature with this record."},
		{Zone: "example.com", Name: "_dmarc.example.com.", Type: records.TypeTXT, TTL: 3600, Value: "v=DMARC1; p=none; rua=mailto:dmarc@example.com", Comment: "DMARC: receivers apply p=none to mail from @example.com that passes neither SPF nor DKIM for the domain.\nAggregate reports go to the rua= addresses."},
		{Zone: "example.com", Name: "mail.example.com.", Type: records.TypeA, TTL: 3600, Value: "192.0.2.10", Comment: "The server mail.example.com has the address 192.0.2.10. Not proxied (on Cloudflare: DNS only)."},
		{Zone: "example.com", Name: "mail.example.com.", Type: records.TypeAAAA, TTL: 3600, Value: "2001:db8::10", Comment: "The server mail.example.com has the IPv6 address 2001:db8::10."},
		{Zone: "example.com", Name: "mail.example.com.", Type: records.TypeTXT, TTL: 3600, Value: "v=spf1 a -all", Comment: "SPF for the HELO name mail.example.com."},
		{Zone: "2.0.192.in-addr.arpa", Name: "10.2.0.192.in-addr.arpa.", Type: records.TypePTR, TTL: 3600, Value: "mail.example.com.", Comment: "Reverse DNS of 192.0.2.10: the owner of the address sets it."},
		{Zone: "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", Name: records.ReverseName(mustAddr("2001:db8::10")), Type: records.TypePTR, TTL: 3600, Value: "mail.example.com.", Comment: "Reverse DNS of 2001:db8::10."},
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
