package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/internal/testdaemons"
)

func o365Answers(t *testing.T) *answers.Answers {
	t.Helper()
	a, err := answers.Parse([]byte(`server: {hostname: mail.example.test, ipv4: [203.0.113.10]}
domains: [{name: example.test, dkim: {selector: s2026}}]
relay: {mode: office365-connector}
`))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(testNow)
	return a
}

// before is a domain that sends directly: nothing done.
func before() DomainState {
	return DomainState{Name: "example.test", SPF: "v=spf1 ip4:203.0.113.10 ~all", MX: []string{"mail.example.test"},
		MXTTL: 3600, SPFTTL: 3600, CachedTTL: 3600, DKIM: map[string]string{}}
}

func statuses(steps []Step) string {
	sym := map[Status]string{StatusDone: "✓", StatusNext: "→", StatusLater: "·", StatusSkipped: "-"}
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(sym[s.Status])
	}
	return b.String()
}

func TestMigratePlan(t *testing.T) {
	a := o365Answers(t)
	relay := a.Relay.RelayHost()
	msDone := func(d DomainState) DomainState { d.MSVerify = "MS=ms12345678"; return d }
	lowTTL := func(d DomainState) DomainState { d.MXTTL, d.SPFTTL, d.CachedTTL = 300, 300, 280; return d }
	include := func(d DomainState) DomainState {
		d.SPF, d.SPFInclude = "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com ~all", true
		return d
	}
	dkim := func(d DomainState) DomainState {
		d.DKIM = map[string]string{"selector1": "selector1-example-test._domainkey.contoso.onmicrosoft.com", "selector2": "selector2-example-test._domainkey.contoso.onmicrosoft.com"}
		return d
	}
	mx := func(d DomainState) DomainState {
		d.MX, d.MXOffice365 = []string{"example-test.mail.protection.outlook.com"}, true
		return d
	}
	restored := func(d DomainState) DomainState { d.MXTTL, d.SPFTTL, d.CachedTTL = 3600, 3600, 3600; return d }
	tests := []struct {
		name      string
		d         DomainState
		relayhost string
		want      string
		nextID    string
		action    string // in the next step's action
	}{
		{"nothing done", before(), "", "→········", StepVerifyDomain, "MS=ms"},
		{"MS= present", msDone(before()), "", "✓→·······", StepLowerTTL, "to 300"},
		{"TTL lowered but still cached", func() DomainState { d := lowTTL(msDone(before())); d.CachedTTL = 3000; return d }(), "", "✓→·······", StepLowerTTL, "wait 3000s"},
		{"TTLs low", lowTTL(msDone(before())), "", "✓✓→······", StepSPFInclude, "include:spf.protection.outlook.com ~all"},
		{"include added", include(lowTTL(msDone(before()))), "", "✓✓✓→·····", StepConnector, "office365/connector.ps1"},
		{"relayhost switched", include(lowTTL(msDone(before()))), relay, "✓✓✓✓✓→···", StepTestMessage, "sendready explain"},
		{"DKIM CNAMEs", dkim(include(lowTTL(msDone(before())))), relay, "✓✓✓✓✓→✓··", StepTestMessage, "sendmail"},
		{"MX switched", mx(dkim(include(lowTTL(msDone(before()))))), relay, "✓✓✓✓✓✓✓✓→", StepRestoreTTL, "back to 3600"},
		{"all done", restored(mx(dkim(include(msDone(before()))))), relay, "✓✓✓✓✓✓✓✓✓", "", ""},
		{"all done, MS= removed after verification", restored(mx(dkim(include(before())))), relay, "✓✓✓✓✓✓✓✓✓", "", ""},
		{"relayhost switched before the SPF include", lowTTL(msDone(before())), relay, "✓✓→✓✓····", StepSPFInclude, "include:spf.protection.outlook.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := Plan(context.Background(), a, State{Relayhost: tt.relayhost, Domains: []DomainState{tt.d}})
			if len(steps) != 9 {
				t.Fatalf("%d steps", len(steps))
			}
			if got := statuses(steps); got != tt.want {
				t.Errorf("statuses %s, want %s", got, tt.want)
			}
			for _, s := range steps {
				if s.Status == StatusNext {
					if s.ID != tt.nextID {
						t.Errorf("next %s, want %s", s.ID, tt.nextID)
					}
					if !strings.Contains(s.Action, tt.action) {
						t.Errorf("action of %s lacks %q:\n%s", s.ID, tt.action, s.Action)
					}
					if s.Check == "" {
						t.Errorf("%s has no check", s.ID)
					}
				}
			}
		})
	}
}

func TestMigratePlanMXSkipped(t *testing.T) {
	a := o365Answers(t)
	no := false
	a.Relay.Office365.MXToOffice365 = &no
	d := before()
	d.MSVerify, d.SPFInclude = "MS=ms1", true
	d.DKIM = map[string]string{"selector1": "a", "selector2": "b"}
	// Before the relay switch the TTLs are still to be lowered.
	if got := statuses(Plan(context.Background(), a, State{Domains: []DomainState{d}})); got != "✓→✓···✓-·" {
		t.Errorf("before the switch: statuses %s", got)
	}
	steps := Plan(context.Background(), a, State{Relayhost: a.Relay.RelayHost(), Domains: []DomainState{d}})
	if got := statuses(steps); got != "✓✓✓✓✓✓✓-✓" {
		t.Errorf("statuses %s", got)
	}
}

func TestMigrateCheck(t *testing.T) {
	a := o365Answers(t)
	if err := Check(a); err != nil {
		t.Fatal(err)
	}
	a.Relay.Mode = answers.ModeDirect
	err := Check(a)
	if !errors.Is(err, ErrNotOffice365) || !strings.Contains(err.Error(), "office365-connector") {
		t.Fatalf("%v", err)
	}
}

// TestMigrateDetectOnKnot detects the state of a half-done migration: MS= and the
// include published with low TTLs in a real Knot, relayhost set in a
// scratch Postfix configuration.
func TestMigrateDetectOnKnot(t *testing.T) {
	testdaemons.Require(t, "knotd", "postconf")
	a := o365Answers(t)
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": `
@ 300 IN TXT "MS=ms87654321"
@ 300 IN TXT "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com ~all"
@ 3600 IN MX 10 mail.example.test.
mail 300 IN A 203.0.113.10
selector1._domainkey 300 IN CNAME selector1-example-test._domainkey.contoso.onmicrosoft.com.
`})
	pf := testdaemons.NewPostfix(t, testdaemons.Dir(t))
	pf.Postconf(t, "-e", "relayhost = "+a.Relay.RelayHost())

	engine := dnscheck.NewEngine(dnscheck.Config{Authoritative: []string{knot.Addr}, Resolvers: []string{knot.Addr}})
	st := Detect(context.Background(), a, engine, RunPostconf(pf.ConfigDir))
	if st.PostconfError != "" || st.Relayhost != a.Relay.RelayHost() {
		t.Fatalf("relayhost %q, postconf error %q", st.Relayhost, st.PostconfError)
	}
	if len(st.Domains) != 1 {
		t.Fatalf("%+v", st)
	}
	d := st.Domains[0]
	if d.MSVerify != "MS=ms87654321" || !d.SPFInclude || d.SPFTTL != 300 || d.MXTTL != 3600 || d.MXOffice365 ||
		d.DKIM["selector1"] != "selector1-example-test._domainkey.contoso.onmicrosoft.com" || d.DKIM["selector2"] != "" || len(d.Errors) > 0 {
		t.Fatalf("%+v", d)
	}
	steps := Plan(context.Background(), a, st)
	// MX TTL still 3600: lowering the TTLs is next, though later steps are done.
	if got := statuses(steps); got != "✓→✓✓✓····" {
		t.Errorf("statuses %s\n%+v", got, steps)
	}
}

func TestMigrateDetectPostconfFails(t *testing.T) {
	a := o365Answers(t)
	engine := dnscheck.NewEngine(dnscheck.Config{Authoritative: []string{"127.0.0.1:1"}, Resolvers: []string{"127.0.0.1:1"}, Retries: dnscheck.NoRetry, Timeout: 200e6})
	fake := func(context.Context, ...string) ([]byte, error) { return nil, errors.New("postconf: not found") }
	st := Detect(context.Background(), a, engine, fake)
	if st.PostconfError == "" || len(st.Domains) != 1 || len(st.Domains[0].Errors) == 0 {
		t.Fatalf("%+v", st)
	}
	steps := Plan(context.Background(), a, st)
	if steps[4].Status == StatusDone || !strings.Contains(steps[4].Detail, "postconf failed") {
		t.Errorf("%+v", steps[4])
	}
}
