package records

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestSplitTXT(t *testing.T) {
	tests := []struct {
		len  int
		want []int
	}{
		{0, []int{0}},
		{1, []int{1}},
		{254, []int{254}},
		{255, []int{255}},
		{256, []int{255, 1}},
		{510, []int{255, 255}},
		{511, []int{255, 255, 1}},
	}
	for _, tt := range tests {
		s := strings.Repeat("x", tt.len)
		chunks := SplitTXT(s)
		var lens []int
		for _, c := range chunks {
			lens = append(lens, len(c))
		}
		if !reflect.DeepEqual(lens, tt.want) {
			t.Errorf("SplitTXT(%d bytes) lengths %v, want %v", tt.len, lens, tt.want)
		}
		if strings.Join(chunks, "") != s {
			t.Errorf("SplitTXT(%d bytes) does not join back", tt.len)
		}
	}
}

func TestQuoteTXT(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{""}, `""`},
		{[]string{"v=spf1 -all"}, `"v=spf1 -all"`},
		{[]string{`a"b`, `c\d`}, `"a\"b" "c\\d"`},
		{[]string{"tab\there", "\xff"}, `"tab\009here" "\255"`},
	}
	for _, tt := range tests {
		if got := QuoteTXT(tt.in); got != tt.want {
			t.Errorf("QuoteTXT(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRecordZoneLine(t *testing.T) {
	long := "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 380)
	tests := []struct {
		rec    Record
		origin string
		want   string
	}{
		{Record{Zone: "example.com", Name: "example.com.", Type: TypeMX, TTL: 3600, Value: "mail.example.com.", Priority: 10}, "example.com", "@\t3600\tIN\tMX\t10 mail.example.com."},
		{Record{Zone: "example.com", Name: "example.com.", Type: TypeTXT, TTL: 300, Value: "v=spf1 ip4:192.0.2.1 ~all"}, "example.com.", "@\t300\tIN\tTXT\t\"v=spf1 ip4:192.0.2.1 ~all\""},
		{Record{Zone: "example.com", Name: "_dmarc.example.com.", Type: TypeTXT, TTL: 300, Value: "v=DMARC1; p=none"}, "example.com", "_dmarc\t300\tIN\tTXT\t\"v=DMARC1; p=none\""},
		{Record{Zone: "example.com", Name: "mail.example.com.", Type: TypeA, TTL: 300, Value: "192.0.2.1"}, "", "mail.example.com.\t300\tIN\tA\t192.0.2.1"},
		{Record{Zone: "example.com", Name: "mail.example.org.", Type: TypeA, TTL: 300, Value: "192.0.2.1"}, "example.com", "mail.example.org.\t300\tIN\tA\t192.0.2.1"},
		{Record{Zone: "example.com", Name: "notexample.com.", Type: TypeA, TTL: 300, Value: "192.0.2.1"}, "example.com", "notexample.com.\t300\tIN\tA\t192.0.2.1"},
		{Record{Zone: "example.com", Name: "s._domainkey.example.com.", Type: TypeTXT, TTL: 300, Value: long}, "example.com",
			"s._domainkey\t300\tIN\tTXT\t\"" + long[:255] + "\" \"" + long[255:] + "\""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.rec.ZoneLine(tt.origin); got != tt.want {
				t.Errorf("ZoneLine(%q)\n got %q\nwant %q", tt.origin, got, tt.want)
			}
		})
	}
}

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{Zone: "example.com", Name: "example.com.", Type: TypeMX, TTL: 3600, Value: "mail.example.com.", Priority: 10},
		{Zone: "example.com", Name: "example.com.", Type: TypeTXT, TTL: 3600, Value: "v=spf1 ip4:192.0.2.1 ~all"},
		{Zone: "example.com", Name: "s._domainkey.example.com.", Type: TypeTXT, TTL: 3600, Value: "v=DKIM1; k=rsa; p=" + strings.Repeat("B", 255)},
		{Zone: "example.com", Name: "x.example.com.", Type: TypeTXT, TTL: 3600, Value: strings.Repeat("C", 255)},
		{Zone: "example.com", Name: "x.example.com.", Type: TypeTXT, TTL: 3600, Value: strings.Repeat("D", 256)},
		{Zone: "example.com", Name: "q.example.com.", Type: TypeTXT, TTL: 3600, Value: `quote " backslash \ semicolon ; tab` + "\t"},
		{Zone: "example.com", Name: "e.example.com.", Type: TypeTXT, TTL: 3600, Value: ""},
		{Zone: "example.com", Name: "mail.example.com.", Type: TypeA, TTL: 300, Value: "192.0.2.1"},
		{Zone: "example.com", Name: "mail.example.com.", Type: TypeAAAA, TTL: 300, Value: "2001:db8::1"},
		{Zone: "example.com", Name: "selector1._domainkey.example.com.", Type: TypeCNAME, TTL: 300, Value: "selector1-example-com._domainkey.contoso.onmicrosoft.com."},
		{Zone: "2.0.192.in-addr.arpa", Name: "1.2.0.192.in-addr.arpa.", Type: TypePTR, TTL: 300, Value: "mail.example.com."},
	}
	for _, r := range recs {
		t.Run(r.Name+" "+r.Type, func(t *testing.T) {
			for _, origin := range []string{"", r.Zone} {
				line := r.ZoneLine(origin)
				parser := dns.NewZoneParser(strings.NewReader(line+"\n"), dns.Fqdn(r.Zone), "")
				rr, ok := parser.Next()
				if !ok {
					t.Fatalf("%q does not parse: %v", line, parser.Err())
				}
				back := FromRR(rr)
				back.Zone = r.Zone
				if !reflect.DeepEqual(back, r) {
					t.Errorf("origin %q: %q\n got %#v\nwant %#v", origin, line, back, r)
				}
			}
			rr, err := r.RR()
			if err != nil {
				t.Fatal(err)
			}
			back := FromRR(rr)
			back.Zone = r.Zone
			if !reflect.DeepEqual(back, r) {
				t.Errorf("RR(): got %#v, want %#v", back, r)
			}
			// The wire form agrees too.
			buf := make([]byte, 4096)
			n, err := dns.PackRR(rr, buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			wire, _, err := dns.UnpackRR(buf[:n], 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := FromRR(wire); got.Value != r.Value {
				t.Errorf("wire value %q, want %q", got.Value, r.Value)
			}
		})
	}
	if _, err := (Record{Name: "x.example.com.", Type: TypeA, TTL: 1, Value: "not-an-ip"}).RR(); err == nil || !strings.HasPrefix(err.Error(), "records: ") {
		t.Errorf("RR() of a bad A record: %v", err)
	}
}

func TestRecordJSON(t *testing.T) {
	recs := []Record{
		{Zone: "example.com", Name: "example.com.", Type: TypeMX, TTL: 3600, Value: "mail.example.com.", Priority: 10, Comment: "why"},
		{Zone: "example.com", Name: "example.com.", Type: TypeTXT, TTL: 3600, Value: "v=spf1 -all", Comment: "why"},
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"zone":"example.com","name":"example.com.","type":"MX","ttl":3600,"value":"mail.example.com.","priority":10},{"zone":"example.com","name":"example.com.","type":"TXT","ttl":3600,"value":"v=spf1 -all"}]`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestReverse(t *testing.T) {
	tests := []struct{ addr, name, zone string }{
		{"203.0.113.10", "10.113.0.203.in-addr.arpa.", "113.0.203.in-addr.arpa"},
		{"::ffff:203.0.113.10", "10.113.0.203.in-addr.arpa.", "113.0.203.in-addr.arpa"},
		{"2001:db8::10", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := ReverseName(a); got != tt.name {
			t.Errorf("ReverseName(%s) = %q, want %q", a, got, tt.name)
		}
		if got := ReverseZone(a); got != tt.zone {
			t.Errorf("ReverseZone(%s) = %q, want %q", a, got, tt.zone)
		}
	}
	if ReverseName(netip.Addr{}) != "" || ReverseZone(netip.Addr{}) != "" {
		t.Error("invalid address gives a name")
	}
}
