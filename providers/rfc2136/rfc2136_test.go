package rfc2136

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/generators/dnszone"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/records"
)

const zone = "example.test"

// reverseZone serves the PTR of the sending address, for dnscheck.
const reverseZone = "$ORIGIN 113.0.203.in-addr.arpa.\n10 300 IN PTR mail.example.test.\n"

// bundleRecords returns answers for example.test and the records a bundle
// for them publishes in the zone.
func bundleRecords(t *testing.T) (*answers.Answers, map[string]crypto.PublicKey, []records.Record) {
	t.Helper()
	a := &answers.Answers{
		Server: answers.Server{Hostname: "mail.example.test", IPv4: []string{"203.0.113.10"}},
		Domains: []answers.Domain{{Name: zone, DKIM: answers.DKIM{Selector: "s1", Algorithm: answers.AlgRSA},
			DMARC: answers.DMARC{Policy: "quarantine", RUA: "mailto:dmarc@example.test"}}},
	}
	a.Defaults(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.PublicKey{"s1._domainkey.example.test": k.Public()}
	recs, err := dnszone.Records(generators.Input{Answers: a, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	var want []records.Record
	for _, r := range recs {
		if r.Zone == zone {
			want = append(want, r)
		}
	}
	return a, keys, want
}

// startKnot serves example.test (fragment) and the reverse zone, taking
// updates signed with the returned key.
func startKnot(t *testing.T, fragment string) (*testdaemons.Knot, Key) {
	t.Helper()
	testdaemons.Require(t, "knotd", "knotc")
	tk := testdaemons.NewTSIGKey(t, "sendready-test")
	knot := testdaemons.StartKnotWith(t, map[string]string{zone: fragment, "113.0.203.in-addr.arpa": reverseZone}, testdaemons.KnotOptions{TSIG: tk})
	k, err := ReadKeyFile(tk.BINDFile(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return knot, k
}

func newProvider(t *testing.T, knot *testdaemons.Knot, k Key) *Provider {
	t.Helper()
	p, err := New(Config{Server: knot.Addr, Key: k, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func plan(t *testing.T, p *Provider, want []records.Record, opts providers.Options) (providers.Plan, []providers.Existing) {
	t.Helper()
	have, err := p.Read(context.Background(), zone, providers.Names(want))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := providers.MakePlan(zone, want, have, opts)
	if err != nil {
		t.Fatal(err)
	}
	return pl, have
}

// values lists what the zone holds at the bundle's names, sorted by the
// provider's reading order, as "name type value" lines.
func values(t *testing.T, p *Provider, want []records.Record) []string {
	t.Helper()
	have, err := p.Read(context.Background(), zone, providers.Names(want))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range have {
		out = append(out, e.ZoneLine(""))
	}
	return out
}

func actions(p providers.Plan) map[providers.Action]int {
	n := map[providers.Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	return n
}

// TestRFC2136PushAndCheck: an empty-ish zone (a verification TXT and an
// SPF record of its own) is planned, pushed, read again (the plan was
// applied exactly, a second plan has nothing to do) and checked green.
func TestRFC2136PushAndCheck(t *testing.T) {
	knot, key := startKnot(t, "@ 300 IN TXT \"MS=ms12345\"\n@ 300 IN TXT \"v=spf1 mx -all\"\n")
	a, keys, want := bundleRecords(t)
	p := newProvider(t, knot, key)
	pl, _ := plan(t, p, want, providers.Options{})
	if !pl.Pending() || len(pl.Conflicts()) != 0 {
		t.Fatalf("plan: %+v", pl)
	}
	if n := actions(pl); n[providers.Update] != 1 || n[providers.Unchanged] != 1 {
		t.Errorf("want the SPF record merged and MS= unchanged: %v", n)
	}
	serial := knot.Serial(t, zone)
	if err := p.Apply(context.Background(), pl); err != nil {
		t.Fatal(err)
	}
	if s := knot.Serial(t, zone); s == serial {
		t.Errorf("serial %d did not change", s)
	}
	now, err := p.Read(context.Background(), zone, providers.Names(want))
	if err != nil {
		t.Fatal(err)
	}
	if d := providers.Verify(pl, now); len(d) != 0 {
		t.Fatalf("re-read differs: %v", d)
	}
	got := strings.Join(values(t, p, want), "\n")
	for _, w := range []string{"MS=ms12345", "v=spf1 mx ip4:203.0.113.10 -all", "v=DKIM1; k=rsa", "v=DMARC1; p=quarantine", "\tMX\t10 mail.example.test.", "\tA\t203.0.113.10"} {
		if !strings.Contains(got, w) {
			t.Errorf("zone lacks %q:\n%s", w, got)
		}
	}
	again, _ := plan(t, p, want, providers.Options{})
	if again.Pending() {
		t.Errorf("second plan: %+v", again)
	}

	checker := dnscheck.New(dnscheck.Config{Authoritative: []string{knot.Addr}, Resolvers: []string{knot.Addr}, Timeout: 2 * time.Second})
	rep := checker.Round(context.Background(), dnscheck.FromAnswers(a, keys))
	if rep.Status != dnscheck.StatusPass && rep.Status != dnscheck.StatusWarn {
		for _, r := range rep.Checks {
			t.Logf("%s %s: %s %s", r.ID, r.Status, r.Detail, r.Fix)
		}
		t.Fatalf("check after push: %s", rep.Status)
	}
	for _, r := range rep.Checks {
		if r.ID != dnscheck.CheckNS && r.Status != dnscheck.StatusPass && r.Status != dnscheck.StatusSkipped {
			t.Errorf("%s %s: %s", r.ID, r.Status, r.Detail)
		}
	}
}

// TestRFC2136ZoneChanged: the zone changes between plan and push (a
// reload, or another update); the push is refused and changes nothing.
func TestRFC2136ZoneChanged(t *testing.T) {
	for _, how := range []string{"reload", "update"} {
		t.Run(how, func(t *testing.T) {
			knot, key := startKnot(t, "@ 300 IN TXT \"v=spf1 mx -all\"\n")
			_, _, want := bundleRecords(t)
			p := newProvider(t, knot, key)
			pl, _ := plan(t, p, want, providers.Options{})
			switch how {
			case "reload":
				knot.UpdateZone(t, zone, "@ 300 IN TXT \"v=spf1 a -all\"\n")
			case "update":
				// Someone else publishes only the MX first.
				var mx []records.Record
				for _, r := range want {
					if r.Type == records.TypeMX {
						mx = append(mx, r)
					}
				}
				other, _ := plan(t, p, mx, providers.Options{})
				if err := p.Apply(context.Background(), other); err != nil {
					t.Fatal(err)
				}
			}
			before := values(t, p, want)
			err := p.Apply(context.Background(), pl)
			if !errors.Is(err, providers.ErrChanged) {
				t.Fatalf("want ErrChanged, got %v", err)
			}
			if after := values(t, p, want); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
			}
			// Planned again, the push goes through.
			pl, _ = plan(t, p, want, providers.Options{})
			if err := p.Apply(context.Background(), pl); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRFC2136WrongKey: a wrong secret or an unknown key name is refused
// with the reason in words, and the zone is unchanged.
func TestRFC2136WrongKey(t *testing.T) {
	knot, key := startKnot(t, "@ 300 IN TXT \"MS=ms12345\"\n")
	_, _, want := bundleRecords(t)
	good := newProvider(t, knot, key)
	before := values(t, good, want)
	other := testdaemons.NewTSIGKey(t, "x")
	for name, k := range map[string]Key{
		"BADSIG": {Name: key.Name, Algorithm: key.Algorithm, Secret: other.Secret},
		"BADKEY": {Name: "other-key.", Algorithm: key.Algorithm, Secret: key.Secret},
	} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, knot, k)
			pl, _ := plan(t, p, want, providers.Options{})
			err := p.Apply(context.Background(), pl)
			if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), name) {
				t.Fatalf("want ErrAuth with %s, got %v", name, err)
			}
			if strings.Contains(err.Error(), k.Secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			if after := values(t, good, want); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("zone changed: %q", after)
			}
		})
	}
}

// TestRFC2136RemovesOnlyTheRecord: with --force, a foreign MX and a
// foreign address are deleted one record at a time; the rest of their
// RRsets stays. TXT records split into odd strings are replaced exactly.
func TestRFC2136RemovesOnlyTheRecord(t *testing.T) {
	knot, key := startKnot(t, strings.Join([]string{
		"@ 300 IN MX 10 mail.example.test.",
		"@ 300 IN MX 20 backup.example.net.",
		"mail 300 IN A 192.0.2.1",
		"mail 300 IN A 203.0.113.10",
		"@ 300 IN TXT \"v=spf1 \" \"mx -all\"",
		"@ 300 IN TXT \"MS=ms1\"",
		"s1._domainkey 300 IN TXT \"v=DKIM1; k=ed25519; \" \"p=AAAA\"",
		"",
	}, "\n"))
	_, _, want := bundleRecords(t)
	p := newProvider(t, knot, key)
	pl, _ := plan(t, p, want, providers.Options{})
	if len(pl.Conflicts()) != 2 {
		t.Fatalf("want 2 conflicts without --force: %+v", pl.Conflicts())
	}
	if err := p.Apply(context.Background(), pl); !errors.Is(err, providers.ErrConflict) {
		t.Fatalf("a plan with conflicts was applied: %v", err)
	}
	pl, _ = plan(t, p, want, providers.Options{Force: true})
	if n := actions(pl); n[providers.Delete] != 2 || n[providers.Update] != 2 {
		t.Fatalf("plan: %v\n%+v", n, pl)
	}
	if err := p.Apply(context.Background(), pl); err != nil {
		t.Fatal(err)
	}
	now, err := p.Read(context.Background(), zone, providers.Names(want))
	if err != nil {
		t.Fatal(err)
	}
	if d := providers.Verify(pl, now); len(d) != 0 {
		t.Fatalf("re-read differs: %v", d)
	}
	got := strings.Join(values(t, p, want), "\n")
	for _, gone := range []string{"backup.example.net", "192.0.2.1", "p=AAAA", "\"v=spf1 mx -all\""} {
		if strings.Contains(got, gone) {
			t.Errorf("%s still in the zone:\n%s", gone, got)
		}
	}
	for _, kept := range []string{"10 mail.example.test.", "203.0.113.10", "MS=ms1", "v=spf1 mx ip4:203.0.113.10 -all"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%s missing:\n%s", kept, got)
		}
	}
}

// TestRFC2136ReadErrors: a server that does not serve the zone.
func TestRFC2136ReadErrors(t *testing.T) {
	knot, key := startKnot(t, "")
	p := newProvider(t, knot, key)
	_, err := p.Read(context.Background(), "example.org", []string{"example.org."})
	if !errors.Is(err, ErrNotAuthoritative) {
		t.Errorf("want ErrNotAuthoritative, got %v", err)
	}
	if _, err := p.Read(context.Background(), zone, []string{"example.org."}); err == nil {
		t.Error("a name outside the zone was read")
	}
}
