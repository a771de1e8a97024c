package tui

import (
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/tui/dashboard"
	"github.com/sendready/sendready/tui/dnsrecords"
)

// generated shows the records once the bundle is written, or the error.
func (m *model) generated(msg generateDoneMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.page = page{s: stateFailed}
		m.genErr, m.conflict = msg.err, msg.conf
		return m, nil
	}
	m.out = msg.out
	m.page = page{s: stateRecords}
	m.history = nil
	m.records = dnsrecords.New(m.out.recs, m.checked.DNS.Provider, m.opts.Color)
	return m, tea.Batch(m.records.Init(), m.resize())
}

func (m *model) failedView() (string, string) {
	body := m.st.bad.Render("The bundle was not written:") + "\n\n" + m.genErr.Error()
	if m.conflict {
		body += "\n\nPress f to replace the files that differ (DKIM keys are never replaced),\nor Esc and choose another bundle directory with --out."
		return body, "f replace · esc back · q quit"
	}
	return body, "esc back · q quit"
}

// startDashboard starts the live checks.
func (m *model) startDashboard() tea.Cmd {
	m.page = page{s: stateDashboard}
	if m.dashReady {
		return nil
	}
	m.dash = dashboard.New(dnscheck.New(m.opts.Check), m.out.exps, dashboard.Options{Now: m.opts.Now, Color: m.opts.Color})
	m.dashReady = true
	return tea.Batch(m.dash.Init(), m.resize())
}

// summaryView is the last screen.
func (m *model) summaryView() string {
	var b strings.Builder
	if m.dashReady && m.dash.Done() {
		b.WriteString(m.st.good.Render("Every check passes.") + "\n\n")
		b.WriteString(m.dash.View() + "\n\n")
	} else {
		b.WriteString("Checks stopped before everything passed; to carry on, run\n  sendready check --wait \\\n    --answers " + m.opts.AnswersPath + " \\\n    --bundle " + m.opts.BundleDir + "\n\n")
	}
	b.WriteString("Bundle:  " + m.opts.BundleDir + " (" + m.out.res.Write.Summary() + ")\n")
	b.WriteString("Answers: " + m.opts.AnswersPath + "\n")
	b.WriteString("Next:    read " + filepath.Join(m.opts.BundleDir, "README.md") + ", then install it as root:\n         sendready apply --bundle " + m.opts.BundleDir + "\n")
	return b.String()
}
