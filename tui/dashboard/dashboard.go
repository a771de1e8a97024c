// Package dashboard is the wizard's live check screen: the check × server
// matrix from dnscheck, refreshed on the poll interval, until every row is
// green.
package dashboard

import (
	"context"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/dnscheck"
)

// Options configure the dashboard.
type Options struct {
	// Now is the clock (time.Now); tests replace it.
	Now func() time.Time
	// MinPoll overrides the shortest poll interval (tests); 0 keeps dnscheck's.
	MinPoll time.Duration
	// Color is false for NO_COLOR/TERM=dumb: symbols and words only.
	Color bool
}

// Model is the dashboard screen. Checks run in tea.Cmds (never in Update or
// View) and come back as messages.
type Model struct {
	checker *dnscheck.Checker
	exps    []dnscheck.Expect
	opts    Options
}

// New returns a dashboard that checks exps with c.
func New(c *dnscheck.Checker, exps []dnscheck.Expect, opts Options) Model {
	panic("not implemented")
}

// Init starts the first check round.
func (m Model) Init() tea.Cmd { panic("not implemented") }

// Update handles round results, the countdown tick, window size, and keys:
// r re-checks now, up/down (j/k) select a row (the selected failing row
// expands to its fix).
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) { panic("not implemented") }

// View renders the matrix: one row per check, one column per server kind,
// colour + symbol per cell, the selected row's fix, a countdown for pending
// rows, and when everything passes a summary.
func (m Model) View() string { panic("not implemented") }

// Done reports whether the last round had nothing failing or pending.
func (m Model) Done() bool { panic("not implemented") }

// Report is the last round's report.
func (m Model) Report() dnscheck.Report { panic("not implemented") }

// Plain is the accessible dashboard: it prints each round as plain lines to
// w and re-checks on the poll interval until nothing fails or is pending, or
// ctx ends. It returns the last report.
func Plain(ctx context.Context, w io.Writer, c *dnscheck.Checker, exps []dnscheck.Expect, opts Options) dnscheck.Report {
	panic("not implemented")
}
