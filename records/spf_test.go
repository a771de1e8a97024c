package records

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseSPF(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		in   string
		want []SPFTerm
		// String gives canon when set, else in.
		canon string
	}{
		{in: "v=spf1", want: nil},
		{in: "v=spf1 -all", want: []SPFTerm{{Qualifier: Fail, Mechanism: MechAll}}},
		{in: "V=SPF1 +All", canon: "v=spf1 +all", want: []SPFTerm{{Qualifier: Pass, Mechanism: MechAll}}},
		{in: "v=spf1  ip4:192.0.2.1   ~all  ", canon: "v=spf1 ip4:192.0.2.1 ~all", want: []SPFTerm{
			{Mechanism: MechIP4, Net: netip.PrefixFrom(ip("192.0.2.1"), 32)},
			{Qualifier: SoftFail, Mechanism: MechAll},
		}},
		{in: "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1/32 ip6:2001:db8::/32 ip6:2001:DB8::1", canon: "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.1 ip6:2001:db8::/32 ip6:2001:db8::1", want: []SPFTerm{
			{Mechanism: MechIP4, Net: netip.PrefixFrom(ip("192.0.2.0"), 24)},
			{Mechanism: MechIP4, Net: netip.PrefixFrom(ip("192.0.2.1"), 32)},
			{Mechanism: MechIP6, Net: netip.PrefixFrom(ip("2001:db8::"), 32)},
			{Mechanism: MechIP6, Net: netip.PrefixFrom(ip("2001:db8::1"), 128)},
		}},
		{in: "v=spf1 a mx a:mail.example.com mx:example.com/24 a/24//64 mx//64 ?a:example.org.", want: []SPFTerm{
			{Mechanism: MechA},
			{Mechanism: MechMX},
			{Mechanism: MechA, Domain: "mail.example.com"},
			{Mechanism: MechMX, Domain: "example.com", CIDR4: 24},
			{Mechanism: MechA, CIDR4: 24, CIDR6: 64},
			{Mechanism: MechMX, CIDR6: 64},
			{Qualifier: Neutral, Mechanism: MechA, Domain: "example.org."},
		}},
		{in: "v=spf1 include:_spf.google.com include:spf.protection.outlook.com exists:%{i}._spf.%{d} ptr ptr:example.com -all", want: []SPFTerm{
			{Mechanism: MechInclude, Domain: "_spf.google.com"},
			{Mechanism: MechInclude, Domain: "spf.protection.outlook.com"},
			{Mechanism: MechExists, Domain: "%{i}._spf.%{d}"},
			{Mechanism: MechPTR},
			{Mechanism: MechPTR, Domain: "example.com"},
			{Qualifier: Fail, Mechanism: MechAll},
		}},
		{in: "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d2} redirect=_spf.example.com exp=explain.%{d} moo=bar%% x-empty=", want: []SPFTerm{
			{Mechanism: MechExists, Domain: "%{ir}.%{l1r+-}._spf.%{d2}"},
			{Modifier: ModRedirect, Value: "_spf.example.com"},
			{Modifier: ModExp, Value: "explain.%{d}"},
			{Modifier: "moo", Value: "bar%%"},
			{Modifier: "x-empty", Value: ""},
		}},
		{in: "v=spf1 Redirect=example.com", canon: "v=spf1 redirect=example.com", want: []SPFTerm{{Modifier: ModRedirect, Value: "example.com"}}},
		{in: "v=spf1 include:a.123-456", want: []SPFTerm{{Mechanism: MechInclude, Domain: "a.123-456"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSPF(tt.in)
			if err != nil {
				t.Fatalf("ParseSPF: %v", err)
			}
			if !reflect.DeepEqual(got.Terms, tt.want) {
				t.Errorf("terms\n got %#v\nwant %#v", got.Terms, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if s := got.String(); s != canon {
				t.Errorf("String() = %q, want %q", s, canon)
			}
			again, err := ParseSPF(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip: %#v, %v", again, err)
			}
		})
	}
}

func TestParseSPFErrors(t *testing.T) {
	tests := []struct {
		in, msg string
		err     error
	}{
		{"", "not an SPF record", ErrNotSPF},
		{"v=spf10 -all", "not an SPF record", ErrNotSPF},
		{"v=DKIM1; p=abc", "not an SPF record", ErrNotSPF},
		{" v=spf1 -all", "not an SPF record", ErrNotSPF},
		{"v=spf1 a:1.1.1.1", `"a:1.1.1.1": a: takes a domain name, not an IP address: use ip4:1.1.1.1`, ErrSPFSyntax},
		{"v=spf1 mx:192.0.2.1/24", "use ip4:192.0.2.1", ErrSPFSyntax},
		{"v=spf1 a:2001:db8::1", "use ip6:2001:db8::1", ErrSPFSyntax},
		{"v=spf1 include:192.0.2.1", "192.0.2.1 is an IP address, not a domain name", ErrSPFSyntax},
		{"v=spf1 ip4:192.0.2.1/33", `"ip4:192.0.2.1/33": prefix length /33 is more than 32`, ErrSPFSyntax},
		{"v=spf1 ip4:192.0.2.1/024", "bad prefix length /024", ErrSPFSyntax},
		{"v=spf1 ip4:192.0.2.300", `"192.0.2.300" is not an IP address`, ErrSPFSyntax},
		{"v=spf1 ip4:2001:db8::1", "is not an IPv4 address: use ip6:", ErrSPFSyntax},
		{"v=spf1 ip6:192.0.2.1", "is not an IPv6 address: use ip4:", ErrSPFSyntax},
		{"v=spf1 ip6:2001:db8::/129", "prefix length /129 is more than 128", ErrSPFSyntax},
		{"v=spf1 ip6:fe80::1%eth0", "is not an IP address", ErrSPFSyntax},
		{"v=spf1 ip4", "ip4 needs an address", ErrSPFSyntax},
		{"v=spf1 include", "include needs a domain", ErrSPFSyntax},
		{"v=spf1 include:", "include needs a domain", ErrSPFSyntax},
		{"v=spf1 exists", "exists needs a domain", ErrSPFSyntax},
		{"v=spf1 include:localhost", `"localhost" is not a fully qualified domain name`, ErrSPFSyntax},
		{"v=spf1 include:example.123", "does not end in a valid top-level label", ErrSPFSyntax},
		{"v=spf1 include:example.com-", "does not end in a valid top-level label", ErrSPFSyntax},
		{"v=spf1 -all:foo", "all takes no argument", ErrSPFSyntax},
		{"v=spf1 ~", "missing mechanism after the qualifier", ErrSPFSyntax},
		{"v=spf1 foo:bar.com", `unknown mechanism "foo"`, ErrSPFSyntax},
		{"v=spf1 ip:192.0.2.1", `unknown mechanism "ip"`, ErrSPFSyntax},
		{"v=spf1 a/33", "prefix length /33 is more than 32", ErrSPFSyntax},
		{"v=spf1 a/0", "/0 matches every address", ErrSPFSyntax},
		{"v=spf1 mx//0", "/0 matches every address", ErrSPFSyntax},
		{"v=spf1 a:", "expected a, a:domain or a/length", ErrSPFSyntax},
		{"v=spf1 redirect=a.example.com redirect=b.example.com", "redirect= may appear only once", ErrSPFSyntax},
		{"v=spf1 exp=a.example.com exp=b.example.com", "exp= may appear only once", ErrSPFSyntax},
		{"v=spf1 redirect=", "redirect= empty domain", ErrSPFSyntax},
		{"v=spf1 1x=y", `bad modifier name "1x"`, ErrSPFSyntax},
		{"v=spf1 +redirect=example.com", `bad modifier name "+redirect"`, ErrSPFSyntax},
		{"v=spf1 include:%{x}.example.com", `unknown macro "%{x}"`, ErrSPFSyntax},
		{"v=spf1 include:%{c}.example.com", `unknown macro "%{c}"`, ErrSPFSyntax},
		{"v=spf1 include:%{d.example.com", "unterminated macro", ErrSPFSyntax},
		{"v=spf1 include:50%.example.com", `bad macro "%."`, ErrSPFSyntax},
		{"v=spf1 exists:%{d}%", `lone "%"`, ErrSPFSyntax},
		{"v=spf1 include:ex\tample.com", "not allowed", ErrSPFSyntax},
		{"v=spf1 ptr:", "ptr takes only an optional :domain", ErrSPFSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSPF(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v is not %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "records: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestSPFBuildAndCount(t *testing.T) {
	s, err := NewSPF(
		IPTerm(netip.MustParseAddr("203.0.113.10")),
		IPTerm(netip.MustParseAddr("::ffff:203.0.113.11")),
		IPTerm(netip.MustParseAddr("2001:db8::10")),
		IncludeTerm("spf.protection.outlook.com"),
		ATerm("relay.example.net"),
		AllTerm(SoftFail),
	)
	if err != nil {
		t.Fatal(err)
	}
	want := "v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 ip6:2001:db8::10 include:spf.protection.outlook.com a:relay.example.net ~all"
	if s.String() != want {
		t.Errorf("String() = %q, want %q", s, want)
	}
	if n := s.LookupTerms(); n != 2 {
		t.Errorf("LookupTerms() = %d, want 2", n)
	}
	if s.HasPassAll() {
		t.Error("HasPassAll() on ~all")
	}
	if _, err := NewSPF(IncludeTerm("not a domain")); !errors.Is(err, ErrSPFSyntax) {
		t.Errorf("NewSPF with a bad include: %v", err)
	}

	counts := []struct {
		in       string
		lookups  int
		includes []string
		redirect string
		passAll  bool
	}{
		{"v=spf1 ip4:192.0.2.1 -all", 0, nil, "", false},
		{"v=spf1 a mx ptr exists:%{i}.example.com include:a.example include:b.example redirect=c.example exp=d.example", 7, []string{"a.example", "b.example"}, "c.example", false},
		{"v=spf1 all", 0, nil, "", true},
		{"v=spf1 a +all", 1, nil, "", true},
		{"v=spf1 ?all", 0, nil, "", false},
	}
	for _, c := range counts {
		s, err := ParseSPF(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if s.LookupTerms() != c.lookups || !reflect.DeepEqual(s.Includes(), c.includes) || s.Redirect() != c.redirect || s.HasPassAll() != c.passAll {
			t.Errorf("%s: lookups %d includes %q redirect %q passAll %v", c.in, s.LookupTerms(), s.Includes(), s.Redirect(), s.HasPassAll())
		}
	}
}

func TestSPFErrorsAreShort(t *testing.T) {
	_, err := ParseSPF("v=spf1 include:" + strings.Repeat("x", 70000) + " ~all")
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("error of %d bytes: %.200v", len(fmt.Sprint(err)), err)
	}
}
