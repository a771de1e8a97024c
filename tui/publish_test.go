package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/migrate"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/publish"
	"github.com/sendready/sendready/records"
)

// fakeProvider is a providers.Provider over zones in memory: Apply makes
// the plan's changes, so the read-back after a push matches.
type fakeProvider struct {
	mu       sync.Mutex
	zones    map[string][]providers.Existing
	applied  []string // zones pushed
	applyErr error
}

func (f *fakeProvider) Name() string { return "rfc2136" }

func (f *fakeProvider) Read(_ context.Context, zone string, names []string) ([]providers.Existing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []providers.Existing
	for _, e := range f.zones[zone] {
		if slices.Contains(names, strings.ToLower(e.Name)) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeProvider) Apply(_ context.Context, p providers.Plan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.applyErr != nil {
		return f.applyErr
	}
	if f.zones == nil {
		f.zones = map[string][]providers.Existing{}
	}
	z := f.zones[p.Zone]
	drop := func(r records.Record) {
		z = slices.DeleteFunc(z, func(e providers.Existing) bool {
			return e.Name == r.Name && e.Type == r.Type && e.Value == r.Value && e.Priority == r.Priority
		})
	}
	for _, c := range p.Changes {
		switch c.Action {
		case providers.Create:
			z = append(z, providers.Existing{Record: c.New})
		case providers.Update:
			drop(c.Old.Record)
			z = append(z, providers.Existing{Record: c.New})
		case providers.Delete:
			drop(c.Old.Record)
		}
	}
	f.zones[p.Zone] = z
	f.applied = append(f.applied, p.Zone)
	return nil
}

// publishOptions are test options whose answers publish through rfc2136
// (opened as fake) for example.com, with the live checks on a loopback
// server that knows nothing.
func publishOptions(t *testing.T, fake *fakeProvider, relay answers.Relay) (Options, *int) {
	t.Helper()
	opts := testOptions(t)
	srv := loopbackDNS(t)
	opts.Check = dnscheck.Config{Resolvers: []string{srv}, Authoritative: []string{srv}, Timeout: 200 * time.Millisecond}
	provider := answers.ProviderRFC2136
	if fake == nil {
		provider = answers.ProviderManual
	}
	opts.Answers = &answers.Answers{
		Server:  answers.Server{Hostname: "mail.example.com", IPv4: []string{"203.0.113.10"}},
		Domains: []answers.Domain{{Name: "example.com"}},
		Relay:   relay,
		DNS:     answers.DNS{Provider: provider, RFC2136: answers.RFC2136{Server: "192.0.2.53", TSIGKeyFile: "update.key"}},
	}
	seedKeys(t, opts.BundleDir, []answers.Signer{{Domain: "example.com", Selector: "202606", Algorithm: answers.AlgRSA}})
	opens := new(int)
	opts.openProvider = func(s publish.Settings, a *answers.Answers) (providers.Provider, string, error) {
		*opens++
		if s.AnswersFile != opts.AnswersPath {
			t.Errorf("opened with answers file %q, want %q", s.AnswersFile, opts.AnswersPath)
		}
		if a.DNS.RFC2136.Server != "192.0.2.53" {
			t.Errorf("opened with %+v", a.DNS)
		}
		return fake, "rfc2136 at 192.0.2.53:53, key update.", nil
	}
	return opts, opens
}

// wantFits fails when the screen is larger than the 80×24 window.
func (d *driver) wantFits() {
	d.t.Helper()
	lines := strings.Split(d.view(), "\n")
	if len(lines) > d.m.height {
		d.t.Errorf("%d lines in a window of %d:\n%s", len(lines), d.m.height, d.view())
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > d.m.width {
			d.t.Errorf("a line of %d cells: %q", w, l)
		}
	}
}

// toRecords presses Enter through every page to the records screen.
func (d *driver) toRecords() {
	d.t.Helper()
	for d.m.page.s != stateRecords && d.keys < 40 {
		d.key("enter")
	}
	d.wantPage(stateRecords)
}

func TestDNSAccessFields(t *testing.T) {
	d := newDriver(t, testOptions(t))
	for range 8 {
		d.key("enter")
	}
	d.wantPage(stateDNS)
	d.wantView("DNS provider", "step 5 of 9")
	if v := d.view(); strings.Contains(v, "TSIG") || strings.Contains(v, "token") {
		t.Fatalf("provider settings on the provider page:\n%s", v)
	}

	// Manual: straight on to the review.
	d.key("enter")
	d.wantPage(stateReview)
	d.key("esc")
	d.wantPage(stateDNS)

	// Cloudflare: the token file only.
	d.key("down")
	d.wantView("step 5 of 10")
	d.key("enter")
	d.wantPage(stateDNSAccess)
	d.wantView("API token file", "CLOUDFLARE_API_TOKEN", "never asked for")
	if strings.Contains(d.view(), "TSIG") {
		t.Fatalf("TSIG asked for Cloudflare:\n%s", d.view())
	}
	d.typ("/etc/sendready/cloudflare.token")
	d.key("enter")
	d.wantPage(stateReview)
	d.key("esc")
	d.wantPage(stateDNSAccess)
	d.wantView("/etc/sendready/cloudflare.token")
	d.key("esc")
	d.wantPage(stateDNS)

	// RFC 2136: the server and the key file, both required.
	d.key("down")
	d.key("enter")
	d.wantPage(stateDNSAccess)
	d.wantView("Primary server", "TSIG key file")
	if strings.Contains(d.view(), "API token") {
		t.Fatalf("the token file asked for RFC 2136:\n%s", d.view())
	}
	d.key("enter")
	d.wantView("is empty")
	d.typ("ns1.example.com")
	d.key("enter")
	d.wantView("is not an address[:port]")
	d.replace("192.0.2.53:5353")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateDNSAccess)
	d.wantView("is empty")
	d.typ("update.key")
	d.key("enter")
	d.wantPage(stateReview)
	d.key("esc")
	d.wantPage(stateDNSAccess)
	d.wantView("192.0.2.53:5353", "update.key")

	a := d.d().answers()
	if a.DNS.Provider != answers.ProviderRFC2136 || a.DNS.RFC2136.Server != "192.0.2.53:5353" || a.DNS.RFC2136.TSIGKeyFile != "update.key" {
		t.Errorf("answers: %+v", a.DNS)
	}
	if a.DNS.Cloudflare.TokenFile != "" {
		t.Errorf("the Cloudflare token file is saved for rfc2136: %+v", a.DNS)
	}
	d.d().Provider = answers.ProviderCloudflare
	if a := d.d().answers(); a.DNS.Cloudflare.TokenFile != "/etc/sendready/cloudflare.token" {
		t.Errorf("answers: %+v", a.DNS)
	}
}

// TestPublishPushes: the plan shows, Enter pushes through the provider,
// the result shows, Enter goes on to the live checks; planning again
// finds nothing to do.
func TestPublishPushes(t *testing.T) {
	fake := &fakeProvider{}
	opts, opens := publishOptions(t, fake, answers.Relay{})
	d := newDriver(t, opts)
	d.toRecords()
	d.wantView("step 8 of 10", "enter publish through rfc2136")
	d.key("enter")
	d.wantPage(statePublish)
	d.wantView("step 9 of 10 · Publish", "Changes pending in 1 zone(s)", "Enter pushes them",
		"Zone example.com (rfc2136 at 192.0.2.53:53", "create     MX     example.com.", "enter push")
	if len(fake.applied) != 0 {
		t.Fatal("pushed before Enter")
	}
	d.wantFits()
	d.key("enter")
	d.wantPage(statePublish)
	d.wantView("Pushed:", "holds exactly what the plan says")
	d.wantFits()
	if !slices.Equal(fake.applied, []string{"example.com"}) {
		t.Fatalf("applied %v", fake.applied)
	}
	d.key("enter")
	d.wantPage(stateDashboard)
	d.wantView("step 10 of 10")

	d.key("esc")
	d.wantPage(stateRecords)
	d.key("enter")
	d.wantPage(statePublish)
	d.wantView("Nothing to do:")
	if *opens != 2 {
		t.Errorf("opened %d times", *opens)
	}
	d.key("enter")
	d.wantPage(stateDashboard)
	if len(fake.applied) != 1 {
		t.Errorf("applied %v", fake.applied)
	}
}

// TestPublishConflicts: a foreign MX is a conflict: nothing is pushed,
// the screen says what --force does, Enter goes on.
func TestPublishConflicts(t *testing.T) {
	fake := &fakeProvider{zones: map[string][]providers.Existing{"example.com": {
		{Record: records.Record{Zone: "example.com", Name: "example.com.", Type: records.TypeMX, TTL: 3600, Value: "backup.example.net.", Priority: 20}},
	}}}
	opts, _ := publishOptions(t, fake, answers.Relay{})
	d := newDriver(t, opts)
	d.toRecords()
	d.key("enter")
	d.wantView("Nothing is pushed: 1 conflict(s)", "conflict   MX     example.com.", "backup.example.net.", "dns push --force")
	d.key("enter")
	d.wantPage(stateDashboard)
	if len(fake.applied) != 0 {
		t.Fatalf("pushed despite a conflict: %v", fake.applied)
	}
}

// TestPublishErrors: an error opening the provider shows in words, r
// tries again; a zone that changed before the push says so; s skips.
func TestPublishErrors(t *testing.T) {
	fake := &fakeProvider{applyErr: fmt.Errorf("%w: the MX set of example.com", providers.ErrChanged)}
	opts, _ := publishOptions(t, fake, answers.Relay{})
	open := opts.openProvider
	fail := true
	opts.openProvider = func(s publish.Settings, a *answers.Answers) (providers.Provider, string, error) {
		if fail {
			return nil, "", errors.New("reading the TSIG key file: open update.key: no such file or directory")
		}
		return open(s, a)
	}
	d := newDriver(t, opts)
	d.toRecords()
	d.key("enter")
	d.wantView("Could not plan through rfc2136:", "open update.key: no such file", "r tries again", "sendready dns push --answers")
	fail = false
	d.key("r")
	d.wantView("Changes pending in 1 zone(s)")
	d.key("enter")
	d.wantView("The push failed:", "providers: the zone changed since it", "(no zone was changed)", "nothing was applied", "r plans again")
	d.key("r")
	d.wantView("Changes pending in 1 zone(s)")
	d.key("s")
	d.wantPage(stateDashboard)
}

// TestPublishSkipWhilePlanning: s leaves a plan still running; its late
// answer is ignored.
func TestPublishSkipWhilePlanning(t *testing.T) {
	opts, _ := publishOptions(t, &fakeProvider{}, answers.Relay{})
	d := newDriver(t, opts)
	d.toRecords()
	d.m.Update(keyMsg("enter")) // the plan Cmd is never run: the answer is late
	d.wantPage(statePublish)
	seq := d.m.pub.seq
	d.wantView("Reading the zones through rfc2136", "s skip publishing")
	d.key("s")
	d.wantPage(stateDashboard)
	d.m.Update(planDoneMsg{seq: seq, err: errors.New("too late")})
	d.wantPage(stateDashboard)
	if d.m.pub.err != nil {
		t.Errorf("a late plan was taken: %v", d.m.pub.err)
	}
}

// TestOffice365Checklist: in a connector mode the checklist follows the
// records, from a fixed state: done steps ticked, the next one's action
// expanded.
func TestOffice365Checklist(t *testing.T) {
	opts, _ := publishOptions(t, nil, answers.Relay{Mode: answers.ModeOffice365Connect,
		Office365: answers.Office365{SmartHost: "example-com.mail.protection.outlook.com", ConnectorAuth: answers.ConnectorIP}})
	opts.detectMigration = func(_ context.Context, a *answers.Answers) migrate.State {
		return migrate.State{Domains: []migrate.DomainState{{
			Name: "example.com", MSVerify: "MS=ms12345678", SPF: "v=spf1 ip4:203.0.113.10 ~all",
			MX: []string{"mail.example.com"}, MXTTL: 300, SPFTTL: 300, CachedTTL: 300,
		}}}
	}
	d := newDriver(t, opts)
	d.toRecords()
	d.wantView("step 8 of 10", "enter the Office 365 checklist")
	d.key("enter")
	d.wantPage(stateMigrate)
	d.wantView("step 9 of 10 · Office 365 migration", "Migration to Office 365",
		"✓ 1", "✓ 2", "→ 3", "do:", "include:spf.protection.outlook.com", "· 4", "steps done")
	d.wantFits()
	d.key("enter")
	d.wantPage(stateDashboard)
	d.wantView("step 10 of 10")
}

// TestAccessiblePublishOnKnot runs the accessible wizard with an RFC 2136
// provider against a real Knot taking TSIG-signed updates: the plan is
// printed, the push confirmed, the records end up in Knot, and the live
// checks against it pass.
func TestAccessiblePublishOnKnot(t *testing.T) {
	knot, key := startKnot(t)
	opts := testOptions(t)
	opts.Accessible = true
	opts.Check = dnscheck.Config{Resolvers: []string{knot.Addr}, Authoritative: []string{knot.Addr}, Timeout: time.Second}
	seedKeys(t, opts.BundleDir, []answers.Signer{{Domain: "example.test", Selector: "202606", Algorithm: answers.AlgRSA}})
	keyFile := key.BINDFile(t, t.TempDir())
	script := strings.Join([]string{
		"mail.example.test", "203.0.113.10", "-", // server
		"example.test", "", // domains, recommended settings
		"", "", // direct, no upstream
		"3", knot.Addr, keyFile, // rfc2136
		"y", // write the bundle
		"y", // push
	}, "\n") + "\n"
	opts.In = strings.NewReader(script)
	var out strings.Builder
	opts.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := Run(ctx, opts)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v\n%s", code, err, out.String())
	}
	text := out.String()
	for _, w := range []string{
		"== Step 9 of 10: Publish ==", "Zone example.test (rfc2136 at " + knot.Addr, "create     MX     example.test.",
		"Push these changes? [y/N]", "holds exactly what the plan says", "Pushed:",
		"== Step 10 of 10: Live checks ==", "Every check passes.",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if strings.Contains(text, key.Secret) {
		t.Fatal("the TSIG secret is in the output")
	}
	wantInKnot(t, knot.Addr, "mail.example.test.", "A", "203.0.113.10")
	wantInKnot(t, knot.Addr, "example.test.", "MX", "mail.example.test.")
	wantInKnot(t, knot.Addr, "example.test.", "TXT", "v=spf1 ip4:203.0.113.10")

	a, err := answers.Load(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if a.DNS.Provider != answers.ProviderRFC2136 || a.DNS.RFC2136.Server != knot.Addr || a.DNS.RFC2136.TSIGKeyFile != keyFile {
		t.Errorf("saved %+v", a.DNS)
	}
	if raw, _ := os.ReadFile(opts.AnswersPath); strings.Contains(string(raw), key.Secret) {
		t.Error("the TSIG secret is in the answers file")
	}
	if _, err := os.Stat(filepath.Join(opts.BundleDir, "dns", "records.json")); err != nil {
		t.Error(err)
	}
}

// TestAccessibleOffice365 prints the migration checklist between the
// records and the live checks in an Office 365 mode.
func TestAccessibleOffice365(t *testing.T) {
	opts, _ := publishOptions(t, nil, answers.Relay{Mode: answers.ModeOffice365Connect,
		Office365: answers.Office365{SmartHost: "example-com.mail.protection.outlook.com", ConnectorAuth: answers.ConnectorIP}})
	opts.Accessible = true
	opts.detectMigration = func(context.Context, *answers.Answers) migrate.State {
		return migrate.State{Relayhost: "[example-com.mail.protection.outlook.com]:25", Domains: []migrate.DomainState{{
			Name: "example.com", SPF: "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com ~all", SPFInclude: true,
			MX: []string{"mail.example.com"}, MXTTL: 300, SPFTTL: 300, CachedTTL: 300,
		}}}
	}
	// Every question keeps the loaded answer; the bundle is written.
	opts.In = strings.NewReader(strings.Repeat("\n", 40))
	var out strings.Builder
	opts.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if code, err := Run(ctx, opts); err != nil || code != 0 {
		t.Fatalf("Run = %d, %v\n%s", code, err, out.String())
	}
	text := out.String()
	for _, w := range []string{"== Step 9 of 10: Office 365 migration ==", "Migration to Office 365", "✓ 5", "→ 6  Send a test message",
		"sendready migrate office365 --answers " + opts.AnswersPath, "== Step 10 of 10: Live checks =="} {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if strings.Contains(text, "Publish") {
		t.Error("a manual provider was offered publishing")
	}
}
