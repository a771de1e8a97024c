// Package dashboard is the wizard's live check screen: the check × server
// matrix from dnscheck, refreshed on the poll interval, until every row is
// green.
package dashboard

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sendready/sendready/tui/internal/nav"

	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/dnscheck"
)

// roundTimeout bounds one check round run by the Model: the engine's own
// per-query timeouts end a round long before it.
const roundTimeout = 2 * time.Minute

// Options configure the dashboard.
type Options struct {
	// Now is the clock (time.Now); tests replace it.
	Now func() time.Time
	// MinPoll overrides the shortest poll interval (tests); 0 keeps dnscheck's.
	// When set, rounds run MinPoll apart instead of Report.NextPoll.
	MinPoll time.Duration
	// Color is false for NO_COLOR/TERM=dumb: symbols and words only.
	Color bool
	// Context bounds the rounds the Model runs (the wizard's context); nil:
	// context.Background(). Plain takes its own ctx.
	Context context.Context
}

// Model is the dashboard screen. Checks run in tea.Cmds (never in Update or
// View) and come back as messages.
type Model struct {
	checker *dnscheck.Checker
	exps    []dnscheck.Expect
	opts    Options

	width, height int

	report   dnscheck.Report
	have     bool      // a round has finished
	rounds   int       // rounds finished
	at       time.Time // when the last round finished (Options.Now)
	now      time.Time // the clock at the last tick
	next     time.Time // when the next round starts; zero: none scheduled
	gen      int       // the current round's number, started or finished
	inFlight bool      // a round is running
	ticking  bool      // the one-second tick chain is alive

	sel    int // selected row: an index into report.Checks
	offset int // first body line shown
}

// roundDoneMsg carries a finished round's report and when it finished.
type roundDoneMsg struct {
	report dnscheck.Report
	at     time.Time
}

// tickMsg is the one-second tick that drives the countdowns.
type tickMsg struct{}

// pollMsg starts the round scheduled after round gen, unless another
// round (r) started since.
type pollMsg struct{ gen int }

// New returns a dashboard that checks exps with c.
func New(c *dnscheck.Checker, exps []dnscheck.Expect, opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	// Init starts round 1 and the tick chain; Init cannot change the model,
	// so the model starts out as if it had.
	return Model{checker: c, exps: exps, opts: opts, gen: 1, inFlight: true, ticking: true, now: opts.Now()}
}

// Init starts the first check round.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.roundCmd(), tick())
}

// roundCmd runs one round with the checker and reports it as a roundDoneMsg.
func (m Model) roundCmd() tea.Cmd {
	c, exps, now, parent := m.checker, m.exps, m.opts.Now, m.opts.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, roundTimeout)
		defer cancel()
		rep := c.Round(ctx, exps)
		return roundDoneMsg{report: rep, at: now()}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// startRound marks a new round as running and returns its command; nil
// when one is already running.
func (m Model) startRound() (Model, tea.Cmd) {
	if m.inFlight {
		return m, nil
	}
	m.gen++
	m.inFlight = true
	m.next = time.Time{}
	cmds := []tea.Cmd{m.roundCmd()}
	if !m.ticking {
		m.ticking = true
		cmds = append(cmds, tick())
	}
	return m, tea.Batch(cmds...)
}

// interval is the wait between the last round and the next.
func (m Model) interval() time.Duration {
	if m.opts.MinPoll > 0 {
		return m.opts.MinPoll
	}
	return m.report.NextPoll()
}

// Update handles round results, the countdown tick, window size, and keys:
// r re-checks now, up/down (j/k) select a row (the selected failing row
// expands to its fix).
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case roundDoneMsg:
		var key string
		if m.sel >= 0 && m.sel < len(m.report.Checks) {
			key = rowKey(m.report.Checks[m.sel])
		}
		m.report, m.have, m.at, m.now = msg.report, true, msg.at, msg.at
		m.inFlight = false
		m.rounds++
		m.sel = 0
		if i := slices.IndexFunc(m.report.Checks, func(r dnscheck.Result) bool { return rowKey(r) == key }); i >= 0 {
			m.sel = i
		} else if i := slices.IndexFunc(m.report.Checks, func(r dnscheck.Result) bool { return !settled(r.Status) }); i >= 0 {
			// First round, or the selected row went away: start on the
			// first row that needs work.
			m.sel = i
		}
		if !m.Done() {
			d := m.interval()
			m.next = m.at.Add(d)
			gen := m.gen
			cmd = tea.Tick(d, func(time.Time) tea.Msg { return pollMsg{gen: gen} })
		} else {
			m.next = time.Time{}
		}
	case pollMsg:
		if msg.gen == m.gen && !m.inFlight {
			m, cmd = m.startRound()
		}
	case tickMsg:
		m.now = m.opts.Now()
		if m.Done() && !m.inFlight {
			m.ticking = false
		} else {
			cmd = tick()
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		n := len(m.report.Checks)
		if sel, ok := nav.Move(msg.String(), m.sel, n); ok {
			m.sel = sel
			break
		}
		switch msg.String() {
		case "r":
			m, cmd = m.startRound()
		case "pgup":
			m.sel -= max(1, m.bodyHeight()-1)
		case "pgdown":
			m.sel += max(1, m.bodyHeight()-1)
		}
		m.sel = max(0, min(m.sel, n-1))
	}
	return m.fit(), cmd
}

// Done reports whether the last round had nothing failing or pending.
func (m Model) Done() bool {
	if !m.have {
		return false
	}
	for _, r := range m.report.Checks {
		if !settled(r.Status) {
			return false
		}
	}
	return true
}

// Report is the last round's report.
func (m Model) Report() dnscheck.Report { return m.report }

// settled reports whether a check status needs nothing more: pass, warn,
// or skipped.
func settled(s dnscheck.Status) bool {
	return s == dnscheck.StatusPass || s == dnscheck.StatusWarn || s == dnscheck.StatusSkipped
}

// rowKey identifies a check across rounds.
func rowKey(r dnscheck.Result) string {
	return r.Domain + "|" + r.ID + "|" + r.Selector + "|" + r.IP
}

// rowLabel is a row's name in the matrix: the check id and its selector or
// IP.
func rowLabel(r dnscheck.Result) string {
	switch {
	case r.Selector != "":
		return r.ID + " " + r.Selector
	case r.IP != "":
		return r.ID + " " + r.IP
	}
	return r.ID
}

// domains lists the report's domains in order, once each.
func domains(rep dnscheck.Report) []string {
	var out []string
	for _, r := range rep.Checks {
		if r.Domain != "" && !slices.Contains(out, r.Domain) {
			out = append(out, r.Domain)
		}
	}
	return out
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// summaryLine is the headline of a green report.
func summaryLine(rep dnscheck.Report) string {
	n := 0
	for _, r := range rep.Checks {
		if r.Status != dnscheck.StatusSkipped {
			n++
		}
	}
	return fmt.Sprintf("All %d checks pass — mail from %s is ready", n, joinAnd(domains(rep)))
}

// tally is how many checks have each status, worst first (fail,
// pending, warn, pass, skipped), zeros left out; errors count as failed.
type tally []count

type count struct {
	status dnscheck.Status
	n      int
}

// String is "2 failed" or "6 pass".
func (c count) String() string {
	word := string(c.status)
	if c.status == dnscheck.StatusFail {
		word = "failed"
	}
	return fmt.Sprintf("%d %s", c.n, word)
}

func tallyOf(rep dnscheck.Report) tally {
	n := map[dnscheck.Status]int{}
	for _, r := range rep.Checks {
		s := r.Status
		if s == dnscheck.StatusError {
			s = dnscheck.StatusFail
		}
		n[s]++
	}
	var out tally
	for _, st := range []dnscheck.Status{dnscheck.StatusFail, dnscheck.StatusPending, dnscheck.StatusWarn, dnscheck.StatusPass, dnscheck.StatusSkipped} {
		if n[st] > 0 {
			out = append(out, count{st, n[st]})
		}
	}
	return out
}

// String is "2 failed, 1 pending, 6 pass".
func (t tally) String() string {
	var parts []string
	for _, c := range t {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ", ")
}

// fmtSeconds formats a count of seconds as the check table does: 45s,
// 4m10s, 2h05m.
func fmtSeconds(sec int) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%ds", sec)
	case sec < 3600:
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	}
	return fmt.Sprintf("%dh%02dm", sec/3600, (sec%3600)/60)
}

// fmtWait formats a wait: sub-second waits (tests) as they are, longer
// ones rounded up to whole seconds.
func fmtWait(d time.Duration) string {
	if d > 0 && d < time.Second {
		return d.String()
	}
	return fmtSeconds(int((d + time.Second - 1) / time.Second))
}

// clearsIn is the live countdown of a pending check: its ETA at the round
// minus the time since.
func clearsIn(r dnscheck.Result, elapsed time.Duration) (string, bool) {
	if r.Status != dnscheck.StatusPending || r.ETASeconds == nil {
		return "", false
	}
	left := *r.ETASeconds - int(elapsed/time.Second)
	if left <= 0 {
		return "should clear any moment now", true
	}
	return "clears in ≈ " + fmtSeconds(left), true
}

// Plain is the accessible dashboard: it prints each round as plain lines to
// w and re-checks on the poll interval until nothing fails or is pending, or
// ctx ends. It returns the last report. A round cut short by ctx is not
// printed; the one before it is returned.
func Plain(ctx context.Context, w io.Writer, c *dnscheck.Checker, exps []dnscheck.Expect, opts Options) dnscheck.Report {
	var last dnscheck.Report
	for round := 1; ; round++ {
		rep := c.Round(ctx, exps)
		if ctx.Err() != nil && round > 1 {
			return last
		}
		last = rep
		m := Model{report: rep, have: true, opts: opts}
		fmt.Fprintf(w, "Round %d: %s\n", round, tallyOf(rep))
		for _, r := range rep.Checks {
			writePlainResult(w, r)
		}
		if m.Done() {
			fmt.Fprintln(w, summaryLine(rep))
			return rep
		}
		if ctx.Err() != nil {
			return rep
		}
		d := m.interval()
		fmt.Fprintf(w, "next check in %s\n\n", fmtWait(d))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return last
		case <-t.C:
		}
	}
}

// cleanPlain is clean for plain output: tabs stay.
func cleanPlain(s string) string { return sanitize(s, true) }

// writePlainResult writes one check as "FAIL dmarc example.com — detail",
// with its fix below when it is not passing.
func writePlainResult(w io.Writer, r dnscheck.Result) {
	st := r.Status
	if st == dnscheck.StatusError {
		st = dnscheck.StatusFail
	}
	label := rowLabel(r)
	if r.Domain != "" {
		label += " " + r.Domain
	}
	detail := r.Detail
	if r.ETASeconds != nil && r.Status == dnscheck.StatusPending && !strings.Contains(detail, "≈") {
		detail += fmt.Sprintf(" (clears in ≈ %s)", fmtSeconds(*r.ETASeconds))
	}
	line := strings.ToUpper(string(st)) + " " + label
	if detail != "" {
		line += " — " + detail
	}
	fmt.Fprintln(w, cleanPlain(line))
	if r.Fix != "" && r.Status != dnscheck.StatusPass && r.Status != dnscheck.StatusSkipped {
		for i, l := range strings.Split(cleanPlain(r.Fix), "\n") {
			if i == 0 {
				fmt.Fprintf(w, "  fix: %s\n", l)
			} else {
				fmt.Fprintf(w, "       %s\n", l)
			}
		}
	}
}
