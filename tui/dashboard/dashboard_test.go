package dashboard

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendready/sendready/tui/internal/tuitest"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sendready/sendready/dnscheck"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Server labels of the fixed report, as dnscheck writes them.
const (
	auth1 = "ns1.example.net (192.0.2.53)"
	auth2 = "ns2.example.net (198.51.100.53)"
	res1  = "9.9.9.9"
	res2  = "1.1.1.1"
)

// obs makes observations: statuses for auth1, auth2, res1, res2 in that
// order; "" leaves the server out.
func obs(sts ...dnscheck.Status) []dnscheck.Observation {
	servers := []struct {
		s string
		k dnscheck.Kind
	}{{auth1, dnscheck.Authoritative}, {auth2, dnscheck.Authoritative}, {res1, dnscheck.Recursive}, {res2, dnscheck.Recursive}}
	var out []dnscheck.Observation
	for i, st := range sts {
		if st != "" {
			out = append(out, dnscheck.Observation{Server: servers[i].s, Kind: servers[i].k, Status: st, TTL: 3600})
		}
	}
	return out
}

const (
	pass    = dnscheck.StatusPass
	fail    = dnscheck.StatusFail
	pending = dnscheck.StatusPending
	warn    = dnscheck.StatusWarn
	skipped = dnscheck.StatusSkipped
	errored = dnscheck.StatusError
)

// fixedReport is a round with one failing, one pending and one warning
// check among passing and skipped ones.
func fixedReport() dnscheck.Report {
	eta := 250
	return dnscheck.Report{Status: fail, Checks: []dnscheck.Result{
		{ID: "a", Domain: "example.com", Status: pass, Detail: "mail.example.com has 192.0.2.10", Observations: obs(pass, pass, pass, pass)},
		{ID: "ptr", Domain: "example.com", IP: "192.0.2.10", Status: pass, Detail: "192.0.2.10 → mail.example.com, forward-confirmed", Observations: obs("", "", pass, pass)},
		{ID: "helo", Domain: "example.com", Status: skipped, Detail: "no SMTP address to probe"},
		{ID: "mx", Domain: "example.com", Status: pass, Detail: "MX 10 mail.example.com.", Observations: obs(pass, pass, pass, pass)},
		{ID: "spf", Domain: "example.com", Status: pending, ETASeconds: &eta,
			Detail:       "resolver 1.1.1.1 still serves old data; clears in ≈ 4m10s",
			Fix:          "nothing to change: wait until the resolvers' caches expire",
			Observations: obs(pass, pass, pass, pending)},
		{ID: "dkim", Domain: "example.com", Selector: "s2026", Status: fail,
			Detail:       "DKIM record missing at " + auth2 + " (right at " + auth1 + ")",
			Fix:          auth2 + " serve(s) an older zone: reload it there or check the zone transfer from the primary; it must serve: s2026._domainkey.example.com.\t3600\tIN\tTXT\t\"v=DKIM1; k=ed25519; p=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=\"",
			Observations: obs(pass, fail, errored, fail)},
		{ID: "dmarc", Domain: "example.com", Status: warn,
			Detail:       "p=none: receivers deliver mail that fails DMARC; move to p=quarantine once reports look right",
			Fix:          `_dmarc.example.com.	3600	IN	TXT	"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"`,
			Observations: obs(pass, pass, pass, pass)},
		{ID: "ns", Domain: "example.com", Status: pass, Detail: "serial 2026030101 on all 2 authoritative servers", Observations: obs(pass, pass)},
		{ID: "dnsbl", Domain: "example.com", Status: skipped, Detail: "blocklist check not asked for"},
	}}
}

// greenReport is fixedReport with everything fixed but the DMARC warning.
func greenReport() dnscheck.Report {
	rep := fixedReport()
	rep.Status = warn
	for i, r := range rep.Checks {
		if r.Status == fail || r.Status == pending {
			r.Status, r.Fix, r.ETASeconds = pass, "", nil
			r.Observations = obs(pass, pass, pass, pass)
			rep.Checks[i] = r
		}
	}
	return rep
}

// clock is a fake clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// loaded returns a dashboard that has received rep at t0 (no checker: the
// tests never run its commands).
func loaded(t *testing.T, rep dnscheck.Report, opts Options) Model {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	m := New(nil, []dnscheck.Expect{{Domain: "example.com"}}, opts)
	m, _ = m.Update(roundDoneMsg{report: rep, at: opts.Now()})
	return m
}

func view(m Model) string { return ansi.Strip(m.View()) }

// selected returns the line with the selection mark.
func selected(t *testing.T, m Model) string {
	t.Helper()
	for _, l := range strings.Split(view(m), "\n") {
		if strings.HasPrefix(l, "▸ ") {
			return l
		}
	}
	t.Fatalf("no selected row in\n%s", view(m))
	return ""
}

func TestSelectionExpandsFix(t *testing.T) {
	m := loaded(t, fixedReport(), Options{MinPoll: 30 * time.Second})
	// The first row that needs work is selected at first.
	if l := selected(t, m); !strings.HasPrefix(l, "▸ spf ") {
		t.Fatalf("selected %q, want spf", l)
	}
	v := view(m)
	for _, want := range []string{"fix: nothing to change", "clears in ≈ 4m10s"} {
		if !strings.Contains(v, want) {
			t.Errorf("spf selected: no %q in\n%s", want, v)
		}
	}

	steps := []struct {
		key, row string
		want     []string // in the view
		not      []string
	}{
		{"down", "dkim s2026", []string{"fix: ns2.example.net (198.51.100.53) serve(s) an older zone", "DKIM record missing at ns2.example.net"}, []string{"nothing to change", "clears in"}},
		{"j", "dmarc", []string{"fix: _dmarc.example.com."}, []string{"reload it there"}},
		{"j", "ns", nil, []string{"fix:"}},
		{"k", "dmarc", []string{"fix: _dmarc"}, nil},
		{"up", "dkim s2026", []string{"fix: ns2"}, nil},
		{"home", "a", nil, []string{"fix:"}},
		{"up", "a", nil, nil}, // stays at the top
		{"end", "dnsbl", nil, []string{"fix:"}},
		{"down", "dnsbl", nil, nil}, // stays at the bottom
		{"pgup", "a", nil, nil},
		{"pgdown", "dnsbl", nil, nil},
		{"x", "dnsbl", nil, nil}, // other keys do nothing
	}
	for _, s := range steps {
		m, _ = m.Update(key(s.key))
		v := view(m)
		if l := selected(t, m); !strings.HasPrefix(l, "▸ "+s.row+" ") {
			t.Fatalf("after %s: selected %q, want %s\n%s", s.key, l, s.row, v)
		}
		for _, w := range s.want {
			if !strings.Contains(v, w) {
				t.Errorf("after %s: no %q in\n%s", s.key, w, v)
			}
		}
		for _, w := range s.not {
			if strings.Contains(v, w) {
				t.Errorf("after %s: %q in\n%s", s.key, w, v)
			}
		}
	}
}

func TestMatrixCells(t *testing.T) {
	m := loaded(t, fixedReport(), Options{MinPoll: 30 * time.Second})
	v := view(m)
	lines := strings.Split(v, "\n")
	if !strings.Contains(lines[1], "auth 1 auth 2 res 1  res 2  detail") {
		t.Errorf("header %q", lines[1])
	}
	// Column positions: each symbol under the middle of its header.
	head := lines[1]
	cols := []int{strings.Index(head, "auth 1") + 2, strings.Index(head, "auth 2") + 2, strings.Index(head, "res 1") + 2, strings.Index(head, "res 2") + 2}
	for _, tc := range []struct {
		row   string
		cells string
	}{
		{"  a ", "✓✓✓✓"},
		{"  ptr 192.0.2.10", "--✓✓"},
		{"  helo", "----"},
		{"▸ spf", "✓✓✓…"},
		{"  dkim s2026", "✓✗?✗"},
		{"  dmarc", "✓✓✓✓"},
		{"  ns ", "✓✓--"},
	} {
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, tc.row) {
				line = l
				break
			}
		}
		if line == "" {
			t.Errorf("no row %q in\n%s", tc.row, v)
			continue
		}
		r := []rune(line)
		// Every symbol is one rune of one cell, so cell = rune index.
		var got string
		for _, c := range cols {
			got += string(r[c])
		}
		if got != tc.cells {
			t.Errorf("row %q cells %q, want %q\n%s", tc.row, got, tc.cells, line)
		}
	}
	for _, want := range []string{"auth 1 ns1.example.net (192.0.2.53)", "res 2 1.1.1.1", "✗ 1 failed", "… 1 pending", "! 1 warn", "✓ 4 pass", "r re-check"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in\n%s", want, v)
		}
	}
	if m.Done() {
		t.Error("Done with a failing row")
	}
}

func TestCountdown(t *testing.T) {
	c := &clock{now: t0}
	m := loaded(t, fixedReport(), Options{Now: c.Now, MinPoll: 30 * time.Second})
	for _, step := range []struct {
		advance     time.Duration
		next, clear string
	}{
		{0, "next check in 30s", "clears in ≈ 4m10s"},
		{10 * time.Second, "next check in 20s", "clears in ≈ 4m00s"},
		{time.Second, "next check in 19s", "clears in ≈ 3m59s"},
		{25 * time.Second, "next check in 0s", "clears in ≈ 3m34s"},
		{4 * time.Minute, "next check in 0s", "should clear any moment now"},
	} {
		c.Advance(step.advance)
		var cmd tea.Cmd
		m, cmd = m.Update(tickMsg{})
		if cmd == nil {
			t.Errorf("+%s: the tick did not schedule the next", step.advance)
		}
		v := view(m)
		if !strings.Contains(v, step.next) || !strings.Contains(v, step.clear) {
			t.Errorf("at +%s: want %q and %q in\n%s", step.advance, step.next, step.clear, v)
		}
	}
}

func TestNextPollFromReport(t *testing.T) {
	// Without MinPoll the wait is Report.NextPoll: the pending ETA.
	m := loaded(t, fixedReport(), Options{})
	if v := view(m); !strings.Contains(v, "next check in 4m10s") {
		t.Errorf("no NextPoll countdown in\n%s", v)
	}
}

func TestRecheck(t *testing.T) {
	m := New(nil, nil, Options{Now: func() time.Time { return t0 }})
	if cmd := m.Init(); cmd == nil {
		t.Fatal("Init returned no command")
	}
	// The first round is in flight: r waits for it.
	if _, cmd := m.Update(key("r")); cmd != nil {
		t.Error("r started a second round while one is in flight")
	}
	if v := view(m); !strings.Contains(v, "checking…") {
		t.Errorf("no checking mark before the first round:\n%s", v)
	}
	m, cmd := m.Update(roundDoneMsg{report: fixedReport(), at: t0})
	if cmd == nil {
		t.Fatal("a failing round scheduled no next round")
	}
	scheduled := m.gen
	m, cmd = m.Update(key("r"))
	if cmd == nil {
		t.Fatal("r returned no command")
	}
	if v := view(m); !strings.Contains(v, "round 2 · checking…") {
		t.Errorf("no checking mark after r:\n%s", v)
	}
	if _, cmd := m.Update(key("r")); cmd != nil {
		t.Error("a second r started another round while one is in flight")
	}
	// The poll scheduled before r is stale.
	if _, cmd := m.Update(pollMsg{gen: scheduled}); cmd != nil {
		t.Error("a stale poll started a round")
	}
	m, _ = m.Update(roundDoneMsg{report: fixedReport(), at: t0.Add(time.Second)})
	if _, cmd := m.Update(pollMsg{gen: m.gen}); cmd == nil {
		t.Error("the poll scheduled after round 2 started nothing")
	}
}

func TestDoneSummary(t *testing.T) {
	m := loaded(t, fixedReport(), Options{MinPoll: time.Second})
	m, _ = m.Update(key("down"))
	m, cmd := m.Update(roundDoneMsg{report: greenReport(), at: t0.Add(time.Minute)})
	if cmd != nil {
		t.Error("a green round scheduled another round")
	}
	if !m.Done() {
		t.Fatal("not Done after a green round")
	}
	if got := m.Report(); statusOf(got, "dkim") != pass {
		t.Errorf("Report() is not the last round: %+v", got)
	}
	v := view(m)
	for _, want := range []string{
		"✓ All 7 checks pass — mail from example.com is ready",
		"Warnings",
		"! dmarc example.com — p=none",
		"fix: _dmarc.example.com.",
		"Skipped: helo, dnsbl",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q in\n%s", want, v)
		}
	}
	// The tick chain stops once everything is green.
	if _, cmd := m.Update(tickMsg{}); cmd != nil {
		t.Error("ticks go on after Done")
	}
	// r still checks again, and restarts the ticks.
	if _, cmd := m.Update(key("r")); cmd == nil {
		t.Error("r after Done returned no command")
	}
}

func TestSeveralDomains(t *testing.T) {
	rep := greenReport()
	other := greenReport().Checks
	for i := range other {
		other[i].Domain = "example.org"
	}
	rep.Checks = append(rep.Checks, other...)
	m := loaded(t, rep, Options{})
	if v := view(m); !strings.Contains(v, "All 14 checks pass — mail from example.com and example.org is ready") {
		t.Errorf("summary of two domains:\n%s", v)
	}
	rep.Checks[4].Status = fail
	m = loaded(t, rep, Options{})
	v := view(m)
	for _, want := range []string{"\nexample.com\n", "\nexample.org\n"} {
		if !strings.Contains(v, want) && !strings.Contains(v, strings.TrimPrefix(want, "\n")) {
			t.Errorf("no domain heading %q in\n%s", want, v)
		}
	}
}

func TestWindowSizes(t *testing.T) {
	for _, rep := range []dnscheck.Report{fixedReport(), greenReport()} {
		for _, color := range []bool{false, true} {
			for _, w := range []int{30, 40, 60, 80, 100, 132} {
				for _, h := range []int{6, 10, 16, 24, 40} {
					m := loaded(t, rep, Options{MinPoll: 30 * time.Second, Color: color})
					m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
					for _, k := range []string{"", "down", "end", "up", "up", "up", "pgup"} {
						if k != "" {
							m, _ = m.Update(key(k))
						}
						lines := strings.Split(m.View(), "\n")
						if len(lines) > h {
							t.Errorf("%d×%d after %q: %d lines", w, h, k, len(lines))
						}
						for _, l := range lines {
							if ansi.StringWidth(l) > w {
								t.Errorf("%d×%d after %q: line wider than %d: %q", w, h, k, w, ansi.Strip(l))
							}
						}
						if !m.Done() && h >= 6 && !strings.Contains(ansi.Strip(m.View()), "▸ ") {
							t.Errorf("%d×%d after %q: the selected row is not visible:\n%s", w, h, k, ansi.Strip(m.View()))
						}
					}
				}
			}
		}
	}
}

func TestScrolling(t *testing.T) {
	m := loaded(t, fixedReport(), Options{MinPoll: 30 * time.Second})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 8})
	m, _ = m.Update(key("end"))
	v := view(m)
	if !strings.Contains(v, "▸ dnsbl") || strings.Contains(v, "\n  a ") {
		t.Errorf("end: want dnsbl and not a in\n%s", v)
	}
	if !strings.Contains(v, "↑ more") {
		t.Errorf("end: no scroll mark in\n%s", v)
	}
	m, _ = m.Update(key("home"))
	v = view(m)
	if !strings.Contains(v, "▸ a ") || strings.Contains(v, "dnsbl") {
		t.Errorf("home: want a and not dnsbl in\n%s", v)
	}
	if !strings.Contains(v, "↓ more") {
		t.Errorf("home: no scroll mark in\n%s", v)
	}
}

func TestColor(t *testing.T) {
	if v := loaded(t, fixedReport(), Options{}).View(); strings.Contains(v, "\x1b") {
		t.Errorf("escape sequences without colour: %q", v)
	}
	v := loaded(t, fixedReport(), Options{Color: true}).View()
	if !strings.Contains(v, "\x1b[") {
		t.Error("no colour with Color")
	}
	if ansi.Strip(v) != view(loaded(t, fixedReport(), Options{})) {
		t.Error("colour changes the text")
	}
}

// goldenModel feeds the dashboard one fixed round (no DNS) and quits once
// it has that round and the window size.
type goldenModel struct {
	m            Model
	round, sized bool
}

func (g goldenModel) Init() tea.Cmd {
	return func() tea.Msg { return roundDoneMsg{report: fixedReport(), at: t0} }
}

func (g goldenModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case roundDoneMsg:
		g.round = true
	case tea.WindowSizeMsg:
		g.sized = true
	}
	g.m, _ = g.m.Update(msg) // no polls, no ticks: the snapshot stays still
	if g.round && g.sized {
		return g, tea.Quit
	}
	return g, nil
}

func (g goldenModel) View() tea.View { return tea.NewView(g.m.View()) }

func TestDashboardGolden(t *testing.T) {
	m := New(nil, []dnscheck.Expect{{Domain: "example.com"}}, Options{Now: func() time.Time { return t0 }, MinPoll: 30 * time.Second})
	tm := teatest.NewTestModel(t, goldenModel{m: m}, teatest.WithInitialTermSize(80, 24))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(goldenModel)
	out := fm.m.View()
	if n := len(strings.Split(out, "\n")); n > 24 {
		t.Errorf("%d lines", n)
	}
	teatest.RequireEqualOutput(t, []byte(out+"\n"))
}

// liveModel runs the dashboard against the test DNS servers and publishes
// the right records after the first round.
type liveModel struct {
	m     Model
	fix   func()
	seen  *[]dnscheck.Report
	views *[]string
}

func (l liveModel) Init() tea.Cmd { return l.m.Init() }

func (l liveModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	l.m, cmd = l.m.Update(msg)
	if rd, ok := msg.(roundDoneMsg); ok {
		*l.seen = append(*l.seen, rd.report)
		*l.views = append(*l.views, ansi.Strip(l.m.View()))
		if len(*l.seen) == 1 {
			l.fix()
		}
	}
	if l.m.Done() {
		return l, tea.Quit
	}
	return l, cmd
}

func (l liveModel) View() tea.View { return tea.NewView(l.m.View()) }

func TestLiveRoundsUntilGreen(t *testing.T) {
	w := newTestWorld(t)
	var seen []dnscheck.Report
	var views []string
	m := New(w.checker, w.exps, Options{MinPoll: 200 * time.Millisecond})
	lm := liveModel{m: m, fix: func() { w.fix(t) }, seen: &seen, views: &views}
	tm := teatest.NewTestModel(t, lm, teatest.WithInitialTermSize(80, 24))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(liveModel)

	if len(seen) < 2 {
		t.Fatalf("%d rounds", len(seen))
	}
	first, last := seen[0], seen[len(seen)-1]
	if st := statusOf(first, "spf"); st != pending {
		t.Errorf("round 1 spf %s, want pending", st)
	}
	if st := statusOf(first, "dmarc"); st != fail {
		t.Errorf("round 1 dmarc %s, want fail", st)
	}
	for _, id := range []string{"spf", "dmarc", "mx", "dkim", "ns"} {
		if st := statusOf(last, id); st != pass {
			t.Errorf("last round %s %s, want pass", id, st)
		}
	}
	if !fm.m.Done() || fm.m.Report().Status != pass {
		t.Errorf("Done %v, report %s", fm.m.Done(), fm.m.Report().Status)
	}
	if v := views[0]; !strings.Contains(v, "spf     … pending") || !strings.Contains(v, "dmarc   ✗ fail") {
		t.Errorf("round 1 view:\n%s", v)
	}
	if v := views[len(views)-1]; !strings.Contains(v, "All 5 checks pass — mail from example.com is ready") {
		t.Errorf("last view:\n%s", v)
	}
}

// fixAfter calls fix once the first "next check in" line is written: Plain
// writes from the caller's goroutine, so no lock is needed.
type fixAfter struct {
	buf   bytes.Buffer
	fix   func()
	fixed bool
}

func (f *fixAfter) Write(p []byte) (int, error) {
	n, err := f.buf.Write(p)
	if !f.fixed && strings.Contains(f.buf.String(), "next check in") {
		f.fixed = true
		f.fix()
	}
	return n, err
}

func TestPlainRoundsUntilGreen(t *testing.T) {
	w := newTestWorld(t)
	out := &fixAfter{fix: func() { w.fix(t) }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rep := Plain(ctx, out, w.checker, w.exps, Options{MinPoll: 200 * time.Millisecond})
	text := out.buf.String()
	t.Logf("\n%s", text)
	if rep.Status != pass {
		t.Errorf("report %s", rep.Status)
	}
	var at int
	for _, want := range []string{
		"Round 1: 1 failed, 1 pending, 3 pass, 4 skipped",
		"PENDING spf example.com — resolver ",
		"FAIL dmarc example.com — no DMARC record",
		"  fix: _dmarc.example.com.",
		"next check in 200ms",
		"Round 2: 5 pass, 4 skipped",
		"PASS spf example.com — v=spf1 ip4:192.0.2.10 -all",
		"PASS dmarc example.com — v=DMARC1; p=reject",
		"All 5 checks pass — mail from example.com is ready",
	} {
		i := strings.Index(text[at:], want)
		if i < 0 {
			t.Fatalf("no %q after offset %d in\n%s", want, at, text)
		}
		at += i + len(want)
	}
	if strings.Count(text, "Round ") != 2 {
		t.Errorf("want 2 rounds:\n%s", text)
	}
	if !strings.HasSuffix(text, "ready\n") {
		t.Errorf("does not end with the summary:\n%s", text)
	}
}

func TestPlainStopsWithContext(t *testing.T) {
	w := newTestWorld(t) // never fixed
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep := Plain(ctx, &buf, w.checker, w.exps, Options{MinPoll: 200 * time.Millisecond})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Plain ran %s past its context", d)
	}
	if rep.Status != fail || statusOf(rep, "dmarc") != fail {
		t.Errorf("last report %s, dmarc %s", rep.Status, statusOf(rep, "dmarc"))
	}
	if strings.Contains(buf.String(), "All ") {
		t.Errorf("summary printed:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "Round 2:") {
		t.Errorf("want at least two rounds in 700ms:\n%s", buf.String())
	}
}

func TestControlCharactersFromDNS(t *testing.T) {
	rep := fixedReport()
	rep.Checks[5].Detail = "TXT is \x1b]52;c;ZXZpbA==\x07 here"
	m := loaded(t, rep, Options{})
	m, _ = m.Update(key("down")) // dkim, whose fix holds tabs
	v := m.View()
	if strings.ContainsAny(v, "\x1b\x07\t") {
		t.Errorf("control characters reach the screen: %q", v)
	}
	var buf bytes.Buffer
	writePlainResult(&buf, rep.Checks[5])
	if strings.ContainsAny(buf.String(), "\x1b\x07") {
		t.Errorf("control characters reach plain output: %q", buf.String())
	}
}

func key(s string) tea.KeyPressMsg { return tuitest.Key(s) }
