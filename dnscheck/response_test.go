package dnscheck

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

func TestResponseHelpers(t *testing.T) {
	soa := "example.com. 3600 IN SOA ns1.example.com. h.example.com. 42 7200 3600 1209600 300"
	auth := Server{Addr: "192.0.2.53:53", Kind: Authoritative}
	rec := Server{Addr: "192.0.2.1:53", Kind: Recursive}
	tests := []struct {
		name   string
		r      Response
		cond   string
		values []string
		ttl    uint32
		target string
	}{
		{
			name: "txt strings joined and unescaped",
			r: Response{Server: auth, AA: true, Query: Query{"example.com.", dns.TypeTXT},
				Answer: rrs(t, `example.com. 300 IN TXT "v=spf1 " "a \"q\" \\ \233 -all"`, `example.com. 200 IN TXT "other"`)},
			cond: "answer", values: []string{"other", "v=spf1 a \"q\" \\ \xe9 -all"}, ttl: 200,
		},
		{
			name: "mx sorted by preference",
			r: Response{Server: rec, Query: Query{"example.com.", dns.TypeMX},
				Answer: rrs(t, "example.com. 300 IN MX 20 b.example.com.", "example.com. 300 IN MX 5 c.example.com.", "example.com. 300 IN MX 10 a.example.com.")},
			cond: "answer", values: []string{"5 c.example.com.", "10 a.example.com.", "20 b.example.com."}, ttl: 300,
		},
		{
			name: "soa serial",
			r:    Response{Server: auth, AA: true, Query: Query{"example.com.", dns.TypeSOA}, Answer: rrs(t, soa)},
			cond: "answer", values: []string{"42"}, ttl: 3600,
		},
		{
			name: "records of another type are ignored",
			r: Response{Server: rec, Query: Query{"example.com.", dns.TypeA},
				Answer: rrs(t, "example.com. 30 IN AAAA 2001:db8::1", "example.com. 60 IN A 192.0.2.1", "other.example.com. 10 IN A 192.0.2.2")},
			cond: "answer", values: []string{"192.0.2.1"}, ttl: 60,
		},
		{
			name: "nxdomain negative ttl",
			r:    Response{Server: rec, Rcode: dns.RcodeNameError, Query: Query{"x.example.com.", dns.TypeA}, Ns: rrs(t, soa)},
			cond: "nxdomain", ttl: 300,
		},
		{
			name: "nodata negative ttl from soa ttl",
			r: Response{Server: auth, AA: true, Query: Query{"example.com.", dns.TypeA},
				Ns: rrs(t, "example.com. 60 IN SOA ns1.example.com. h.example.com. 42 7200 3600 1209600 300")},
			cond: "nodata", ttl: 60,
		},
		{
			name: "cname chain to the end",
			r: Response{Server: rec, Query: Query{"a.example.com.", dns.TypeTXT},
				Answer: rrs(t, "b.example.com. 60 IN CNAME c.example.com.", "a.example.com. 60 IN CNAME B.example.com.", `c.example.com. 10 IN TXT "x"`)},
			cond: "answer", values: []string{"x"}, ttl: 10, target: "c.example.com.",
		},
		{
			name: "cname only: answer to follow",
			r: Response{Server: auth, AA: true, Query: Query{"sel._domainkey.example.com.", dns.TypeTXT},
				Answer: rrs(t, "sel._domainkey.example.com. 60 IN CNAME sel.provider.test.")},
			cond: "answer", target: "sel.provider.test.",
		},
		{
			name: "cname to a name without the type: nodata",
			r: Response{Server: rec, Query: Query{"a.example.com.", dns.TypeTXT},
				Answer: rrs(t, "a.example.com. 60 IN CNAME c.example.com."), Ns: rrs(t, soa)},
			cond: "nodata", ttl: 300, target: "c.example.com.",
		},
		{
			name: "cname to a missing name: nxdomain",
			r: Response{Server: rec, Rcode: dns.RcodeNameError, Query: Query{"a.example.com.", dns.TypeTXT},
				Answer: rrs(t, "a.example.com. 60 IN CNAME c.example.com."), Ns: rrs(t, soa)},
			cond: "nxdomain", ttl: 300, target: "c.example.com.",
		},
		{
			name: "cname loop ends",
			r: Response{Server: rec, Query: Query{"a.example.com.", dns.TypeTXT},
				Answer: rrs(t, "a.example.com. 60 IN CNAME b.example.com.", "b.example.com. 60 IN CNAME a.example.com.")},
			cond: "error", target: "b.example.com.",
		},
		{
			name: "authoritative without aa is lame",
			r: Response{Server: auth, Query: Query{"example.com.", dns.TypeA},
				Answer: rrs(t, "example.com. 60 IN A 192.0.2.1")},
			cond: "lame", values: []string{"192.0.2.1"}, ttl: 60,
		},
		{
			name: "authoritative refused is lame",
			r:    Response{Server: auth, Rcode: dns.RcodeRefused, Query: Query{"example.com.", dns.TypeA}},
			cond: "lame",
		},
		{
			name: "resolver refused",
			r:    Response{Server: rec, Rcode: dns.RcodeRefused, Query: Query{"example.com.", dns.TypeA}},
			cond: "refused",
		},
		{
			name: "servfail",
			r:    Response{Server: auth, Rcode: dns.RcodeServerFailure, Query: Query{"example.com.", dns.TypeA}},
			cond: "servfail",
		},
		{
			name: "timeout is never an answer",
			r: Response{Server: rec, Query: Query{"example.com.", dns.TypeA}, Err: fmt.Errorf("%w after 2s (2 tries)", ErrTimeout),
				Answer: rrs(t, "example.com. 60 IN A 192.0.2.1")},
			cond: "timeout",
		},
		{
			name: "other error",
			r:    Response{Server: rec, Query: Query{"example.com.", dns.TypeA}, Err: ErrConnRefused},
			cond: "error",
		},
		{
			name: "notimp",
			r:    Response{Server: rec, Rcode: dns.RcodeNotImplemented, Query: Query{"example.com.", dns.TypeA}},
			cond: "error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Condition(); got != tt.cond {
				t.Errorf("Condition = %q, want %q", got, tt.cond)
			}
			if got := tt.r.Values(); !slices.Equal(got, tt.values) {
				t.Errorf("Values = %q, want %q", got, tt.values)
			}
			if got := tt.r.TTL(); got != tt.ttl {
				t.Errorf("TTL = %d, want %d", got, tt.ttl)
			}
			want := tt.target
			if want == "" {
				want = tt.r.Query.Name
			}
			if got := tt.r.Target(); got != want {
				t.Errorf("Target = %q, want %q", got, want)
			}
		})
	}
}

func TestResponseErrorsWrap(t *testing.T) {
	r := Response{Err: fmt.Errorf("%w over UDP; retrying over TCP: %w", ErrTruncated, ErrConnRefused)}
	if !errors.Is(r.Err, ErrTruncated) || !errors.Is(r.Err, ErrConnRefused) || r.Condition() != "error" {
		t.Errorf("wrapped errors: %v, condition %q", r.Err, r.Condition())
	}
}
