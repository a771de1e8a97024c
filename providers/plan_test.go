package providers

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/sendready/sendready/records"
)

const testZone = "example.com"

// rec builds a record of testZone; name is relative ("@" for the apex).
func rec(name, typ, value string) records.Record {
	fq := testZone + "."
	if name != "@" {
		fq = name + "." + fq
	}
	return records.Record{Zone: testZone, Name: fq, Type: typ, TTL: 3600, Value: value}
}

func mxRec(prio uint16, host string) records.Record {
	r := rec("@", records.TypeMX, host)
	r.Priority = prio
	return r
}

func have(rs ...records.Record) []Existing {
	out := make([]Existing, len(rs))
	for i, r := range rs {
		r.Zone = ""
		out[i] = Existing{Record: r}
	}
	return out
}

func ttl(r records.Record, n uint32) records.Record { r.TTL = n; return r }

func dkimValue(t *testing.T, seed byte) string {
	t.Helper()
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	d, err := records.NewDKIM(ed25519.NewKeyFromSeed(s).Public())
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

const (
	ourSPF   = "v=spf1 ip4:203.0.113.10 ~all"
	heloSPF  = "v=spf1 a -all"
	ourDMARC = "v=DMARC1; p=none; rua=mailto:dmarc@example.com"
)

// bundle is what a generated bundle publishes in testZone.
func bundle(t *testing.T) []records.Record {
	return []records.Record{
		mxRec(10, "mail.example.com."),
		rec("@", records.TypeTXT, ourSPF),
		rec("s1._domainkey", records.TypeTXT, dkimValue(t, 1)),
		rec("_dmarc", records.TypeTXT, ourDMARC),
		rec("mail", records.TypeA, "203.0.113.10"),
		rec("mail", records.TypeTXT, heloSPF),
	}
}

// line renders a change for comparison: action, owner (relative), type
// and the value (old → new for an update, the old one for delete and
// conflict).
func line(c Change) string {
	r := c.New
	if c.Action == Delete || c.Action == Conflict && c.Old != nil {
		r = c.Old.Record
	}
	name := strings.TrimSuffix(strings.TrimSuffix(r.Name, testZone+"."), ".")
	if name == "" {
		name = "@"
	}
	v := display(r)
	if c.Action == Update {
		v = display(c.Old.Record) + " → " + display(c.New)
	}
	return fmt.Sprintf("%s %s %s %s", c.Action, name, r.Type, v)
}

func lines(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, line(c))
	}
	return out
}

func TestMakePlan(t *testing.T) {
	dk1, dk2 := dkimValue(t, 1), dkimValue(t, 2)
	b := bundle(t)
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	type tc struct {
		name  string
		have  []Existing
		force bool
		// want lists the changes at names touched by have (other names
		// are created); whys maps a line's index to words its Why holds.
		want      []string
		whys      map[int][]string
		conflicts int
	}
	all := []string{
		"create @ MX 10 mail.example.com.",
		"create @ TXT " + q(ourSPF),
		"create s1._domainkey TXT " + q(dk1),
		"create _dmarc TXT " + q(ourDMARC),
		"create mail A 203.0.113.10",
		"create mail TXT " + q(heloSPF),
	}
	// with replaces the change at index i of all.
	with := func(repl map[int][]string) []string {
		var out []string
		for i, l := range all {
			if r, ok := repl[i]; ok {
				out = append(out, r...)
			} else {
				out = append(out, l)
			}
		}
		return out
	}
	spfCase := func(name, existing, merged string, whys ...string) tc {
		want := "update @ TXT " + q(existing) + " → " + q(merged)
		if merged == "" {
			want = "unchanged @ TXT " + q(existing)
		}
		return tc{name: name, have: have(rec("@", records.TypeTXT, existing)), want: with(map[int][]string{1: {want}}), whys: map[int][]string{1: whys}}
	}
	spfConflict := func(name, existing string, whys ...string) tc {
		return tc{name: name, have: have(rec("@", records.TypeTXT, existing)), conflicts: 1,
			want: with(map[int][]string{1: {"conflict @ TXT " + q(existing)}}), whys: map[int][]string{1: whys}}
	}
	var tenIncludes []string
	for i := range 10 {
		tenIncludes = append(tenIncludes, fmt.Sprintf("include:s%d.example.net", i))
	}
	cases := []tc{
		{name: "empty zone", want: all},
		{
			name: "all equal, TXT split and TTL different",
			have: have(mxRec(10, "MAIL.example.com."), ttl(rec("@", records.TypeTXT, `"v=spf1 ip4:203.0.113.10 " "~all"`), 300),
				rec("s1._domainkey", records.TypeTXT, dk1), rec("_dmarc", records.TypeTXT, ourDMARC),
				rec("mail", records.TypeA, "203.0.113.10"), rec("mail", records.TypeTXT, heloSPF)),
			want: []string{
				"unchanged @ MX 10 mail.example.com.", // names compare and show lower case
				"unchanged @ TXT " + q(ourSPF),
				"unchanged s1._domainkey TXT " + q(dk1),
				"unchanged _dmarc TXT " + q(ourDMARC),
				"unchanged mail A 203.0.113.10",
				"unchanged mail TXT " + q(heloSPF),
			},
			whys: map[int][]string{1: {"TTL 300 kept"}},
		},
		spfCase("SPF ~all kept", "v=spf1 include:_spf.google.com ~all", "v=spf1 include:_spf.google.com ip4:203.0.113.10 ~all", "before ~all", "1 of the 10"),
		spfCase("SPF -all kept", "v=spf1 mx -all", "v=spf1 mx ip4:203.0.113.10 -all", "keeps the existing mechanisms and its -all", "would end in ~all"),
		spfCase("SPF ?all kept", "v=spf1 ?all", "v=spf1 ip4:203.0.113.10 ?all", "before ?all"),
		spfCase("SPF redirect gets no all", "v=spf1 include:x.example.net redirect=_spf.example.net",
			"v=spf1 include:x.example.net ip4:203.0.113.10 redirect=_spf.example.net", "no all is added"),
		spfCase("SPF without all", "v=spf1 mx", "v=spf1 mx ip4:203.0.113.10", "no all"),
		spfCase("SPF already has our address", "v=spf1 +ip4:203.0.113.10 include:x.example.net -all", "", "already lists"),
		spfCase("SPF with a dead term after all", "v=spf1 -all ip4:203.0.113.10", "v=spf1 ip4:203.0.113.10 -all ip4:203.0.113.10"),
		spfConflict("SPF over 10 lookups", "v=spf1 "+strings.Join(tenIncludes, " ")+" mx ~all", "11 terms", "flatten", "subdomain", "count on top"),
		spfConflict("SPF +all", "v=spf1 mx +all", "+all", "--force"),
		spfConflict("SPF gives our address fail", "v=spf1 -ip4:203.0.113.10 ~all", "-ip4:203.0.113.10", "fail result"),
		{
			name: "SPF +all with force", force: true,
			have: have(rec("@", records.TypeTXT, "v=spf1 mx all")),
			want: with(map[int][]string{1: {"update @ TXT " + q("v=spf1 mx all") + " → " + q("v=spf1 mx ip4:203.0.113.10 ~all")}}),
			whys: map[int][]string{1: {"+all becomes ~all"}},
		},
		{
			name: "two SPF records", conflicts: 2,
			have: have(rec("@", records.TypeTXT, "v=spf1 mx -all"), rec("@", records.TypeTXT, "v=spf1 include:x.example.net ~all")),
			want: with(map[int][]string{1: {"conflict @ TXT " + q("v=spf1 mx -all"), "conflict @ TXT " + q("v=spf1 include:x.example.net ~all")}}),
			whys: map[int][]string{1: {"2 SPF records", "Merge them into one"}},
		},
		{
			name: "two SPF records, force does not merge", force: true, conflicts: 2,
			have: have(rec("@", records.TypeTXT, "v=spf1 mx -all"), rec("@", records.TypeTXT, "v=spf1 include:x.example.net ~all")),
			want: with(map[int][]string{1: {"conflict @ TXT " + q("v=spf1 mx -all"), "conflict @ TXT " + q("v=spf1 include:x.example.net ~all")}}),
		},
		{
			name: "MS= and verification TXT untouched; SPF joins their TTL",
			have: have(ttl(rec("@", records.TypeTXT, "MS=ms12345678"), 300), ttl(rec("@", records.TypeTXT, "google-site-verification=abc"), 300)),
			want: with(map[int][]string{1: {"create @ TXT " + q(ourSPF), "unchanged @ TXT " + q("MS=ms12345678"), "unchanged @ TXT " + q("google-site-verification=abc")}}),
			whys: map[int][]string{1: {"TTL 300"}, 2: {"never touched"}},
		},
		{
			name: "DMARC p=reject is not weakened", conflicts: 1,
			have: have(rec("_dmarc", records.TypeTXT, "v=DMARC1; p=reject")),
			want: with(map[int][]string{3: {"conflict _dmarc TXT " + q("v=DMARC1; p=reject")}}),
			whys: map[int][]string{3: {"p=reject → p=none", "--force"}},
		},
		{
			name: "DMARC p=reject weakened with force", force: true,
			have: have(rec("_dmarc", records.TypeTXT, "v=DMARC1; p=reject")),
			want: with(map[int][]string{3: {"update _dmarc TXT " + q("v=DMARC1; p=reject") + " → " + q(ourDMARC)}}),
			whys: map[int][]string{3: {"weakens", "p=reject → p=none"}},
		},
		{
			name: "DMARC pct and sp", conflicts: 1,
			have: have(rec("_dmarc", records.TypeTXT, "v=DMARC1; p=none; sp=quarantine; rua=mailto:dmarc@example.com")),
			want: with(map[int][]string{3: {"conflict _dmarc TXT " + q("v=DMARC1; p=none; sp=quarantine; rua=mailto:dmarc@example.com")}}),
			whys: map[int][]string{3: {"sp=quarantine → sp=none"}},
		},
		{
			name: "DMARC stronger answers update",
			have: have(rec("_dmarc", records.TypeTXT, "v=DMARC1; p=none; pct=50")),
			want: with(map[int][]string{3: {"update _dmarc TXT " + q("v=DMARC1; p=none; pct=50") + " → " + q(ourDMARC)}}),
			whys: map[int][]string{3: {"pct=50 → pct=100", "rua=(none)"}},
		},
		{
			name: "DKIM key changed",
			have: have(rec("s1._domainkey", records.TypeTXT, dk2)),
			want: with(map[int][]string{2: {"update s1._domainkey TXT " + q(dk2) + " → " + q(dk1)}}),
			whys: map[int][]string{2: {"another key", "fails DKIM until"}},
		},
		{
			name: "CNAME at the DKIM selector", conflicts: 1,
			have: have(rec("s1._domainkey", records.TypeCNAME, "s1.dkim.example.net.")),
			want: with(map[int][]string{2: {"conflict s1._domainkey CNAME s1.dkim.example.net."}}),
			whys: map[int][]string{2: {"RFC 1034", "--force"}},
		},
		{
			name: "CNAME at the DKIM selector with force", force: true,
			have: have(rec("s1._domainkey", records.TypeCNAME, "s1.dkim.example.net.")),
			want: with(map[int][]string{2: {"delete s1._domainkey CNAME s1.dkim.example.net.", "create s1._domainkey TXT " + q(dk1)}}),
		},
		{
			name: "foreign MX", conflicts: 1,
			have: have(mxRec(10, "mail.example.com."), mxRec(20, "backup.example.net.")),
			want: with(map[int][]string{0: {"unchanged @ MX 10 mail.example.com.", "conflict @ MX 20 backup.example.net."}}),
			whys: map[int][]string{1: {"whole MX set", "--force"}},
		},
		{
			name: "foreign MX with force", force: true,
			have: have(mxRec(5, "mail.example.com."), mxRec(20, "backup.example.net.")),
			want: with(map[int][]string{0: {"update @ MX 5 mail.example.com. → 10 mail.example.com.", "delete @ MX 20 backup.example.net."}}),
		},
		{
			name: "foreign address of the mail host", conflicts: 2,
			have: have(rec("mail", records.TypeA, "192.0.2.1"), rec("mail", records.TypeAAAA, "2001:db8::1")),
			want: with(map[int][]string{4: {"create mail A 203.0.113.10", "conflict mail A 192.0.2.1", "conflict mail AAAA 2001:db8::1"}}),
		},
		{
			name: "proxied mail host", conflicts: 1,
			have: []Existing{{Record: rec("mail", records.TypeA, "203.0.113.10"), Proxied: true}},
			want: with(map[int][]string{4: {"conflict mail A 203.0.113.10"}}),
			whys: map[int][]string{4: {"proxied", "DNS only"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := MakePlan(testZone, b, c.have, Options{Force: c.force})
			if err != nil {
				t.Fatal(err)
			}
			got := lines(p)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			for i, words := range c.whys {
				for _, w := range words {
					if !strings.Contains(p.Changes[i].Why, w) {
						t.Errorf("change %d (%s): why %q lacks %q", i, got[i], p.Changes[i].Why, w)
					}
				}
			}
			if n := len(p.Conflicts()); n != c.conflicts {
				t.Errorf("%d conflicts, want %d", n, c.conflicts)
			}
			for _, ch := range p.Changes {
				if ch.Why == "" {
					t.Errorf("%s: no why", line(ch))
				}
				if (ch.Action == Create || ch.Action == Update || ch.Action == Unchanged) && ch.New.Zone != testZone {
					t.Errorf("%s: New.Zone %q", line(ch), ch.New.Zone)
				}
				if ch.Action == Create || ch.Action == Update {
					if _, err := ch.New.RR(); err != nil {
						t.Errorf("%s: %v", line(ch), err)
					}
					if ch.New.Type == records.TypeTXT {
						if _, err := records.ParseSPF(ch.New.Value); err != nil && !errors.Is(err, records.ErrNotSPF) {
							t.Errorf("%s: %v", line(ch), err)
						}
					}
				}
			}
			// Deterministic: the order of have does not matter.
			shuffled := append([]Existing(nil), c.have...)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			p2, err := MakePlan(testZone, b, shuffled, Options{Force: c.force})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.have) <= 2 && !reflect.DeepEqual(lines(p2), got) {
				// Records of one set keep the provider's order; with
				// two of a kind the order may swap, but not the actions.
				if !sameLines(lines(p2), got) {
					t.Errorf("shuffled have: %v, want %v", lines(p2), got)
				}
			}
		})
	}
}

func sameLines(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func TestMakePlanPending(t *testing.T) {
	b := bundle(t)
	p, err := MakePlan(testZone, b, nil, Options{})
	if err != nil || !p.Pending() || len(p.Conflicts()) != 0 {
		t.Fatalf("empty zone: pending %v, conflicts %d, %v", p.Pending(), len(p.Conflicts()), err)
	}
	if s := p.Summary(); s != "6 to create" {
		t.Errorf("summary %q", s)
	}
	var now []Existing
	for _, c := range p.Changes {
		now = append(now, Existing{Record: c.New})
	}
	p, err = MakePlan(testZone, b, now, Options{})
	if err != nil || p.Pending() {
		t.Fatalf("after applying: %v %v", lines(p), err)
	}
}

func TestMakePlanErrors(t *testing.T) {
	other := rec("@", records.TypeTXT, "x")
	other.Zone = "example.net"
	outside := rec("@", records.TypeTXT, "x")
	outside.Name = "example.net."
	ptr := rec("10", records.TypePTR, "mail.example.com.")
	badSPF := rec("@", records.TypeTXT, "v=spf1 bogus:x ~all")
	cname := rec("sel._domainkey", records.TypeCNAME, "x.example.net.")
	cnameTXT := rec("sel._domainkey", records.TypeTXT, "x")
	for name, want := range map[string][]records.Record{
		"other zone":      {other},
		"outside zone":    {outside},
		"PTR":             {ptr},
		"bad SPF":         {badSPF},
		"CNAME with data": {cname, cnameTXT},
	} {
		if _, err := MakePlan(testZone, want, nil, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMakePlanCNAME(t *testing.T) {
	want := []records.Record{rec("selector1._domainkey", records.TypeCNAME, "selector1-example-com._domainkey.t.onmicrosoft.com.")}
	for _, c := range []struct {
		name  string
		have  []Existing
		force bool
		want  []string
	}{
		{"create", nil, false, []string{"create selector1._domainkey CNAME selector1-example-com._domainkey.t.onmicrosoft.com."}},
		{"same", have(want[0]), false, []string{"unchanged selector1._domainkey CNAME selector1-example-com._domainkey.t.onmicrosoft.com."}},
		{"other target", have(rec("selector1._domainkey", records.TypeCNAME, "old.example.net.")), false,
			[]string{"update selector1._domainkey CNAME old.example.net. → selector1-example-com._domainkey.t.onmicrosoft.com."}},
		{"TXT there", have(rec("selector1._domainkey", records.TypeTXT, "v=DKIM1; p=")), false,
			[]string{"conflict selector1._domainkey TXT \"v=DKIM1; p=\""}},
		{"TXT there, force", have(rec("selector1._domainkey", records.TypeTXT, "v=DKIM1; p=")), true,
			[]string{"delete selector1._domainkey TXT \"v=DKIM1; p=\"", "create selector1._domainkey CNAME selector1-example-com._domainkey.t.onmicrosoft.com."}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := MakePlan(testZone, want, c.have, Options{Force: c.force})
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(p); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	b := bundle(t)
	ms := ttl(rec("@", records.TypeTXT, "MS=ms1"), 300)
	p, err := MakePlan(testZone, b, have(ms, mxRec(20, "old.example.net.")), Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	var applied []Existing
	for _, c := range p.Changes {
		if c.Action != Delete {
			applied = append(applied, Existing{Record: c.New})
		}
	}
	if d := Verify(p, applied); len(d) != 0 {
		t.Fatalf("applied exactly: %v", d)
	}
	// The old MX still there, the SPF missing, the DMARC with another TTL.
	var wrong []Existing
	for _, e := range applied {
		switch {
		case strings.HasPrefix(e.Value, "v=spf1 ip4"):
			continue
		case strings.HasPrefix(e.Value, "v=DMARC1"):
			e.TTL = 60
		}
		wrong = append(wrong, e)
	}
	wrong = append(wrong, have(mxRec(20, "old.example.net."))...)
	d := Verify(p, wrong)
	joined := strings.Join(d, "\n")
	for _, w := range []string{"old.example.net. is there", "v=spf1 ip4:203.0.113.10 ~all\" is missing", "TTL 60"} {
		if !strings.Contains(joined, w) {
			t.Errorf("differences lack %q:\n%s", w, joined)
		}
	}
	if len(d) != 3 {
		t.Errorf("%d differences:\n%s", len(d), joined)
	}
}
