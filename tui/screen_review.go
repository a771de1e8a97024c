package tui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/publish"
)

// enterReview validates everything; a refused answer sends the admin to
// its page with the problem shown there. Otherwise the files are listed
// (in a Cmd: missing keys are made in memory).
func (m *model) enterReview() tea.Cmd {
	a, warnings, probs := m.d.check()
	if len(probs) > 0 {
		p := m.d.pageFor(probs[0].Path)
		m.banner = m.d.problemsOn(p, probs)
		// Come back to the problem's page as if from the page before it.
		if i := slices.Index(m.history, p); i >= 0 {
			m.history = m.history[:i]
		}
		return m.enter(p)
	}
	m.page = page{s: stateReview}
	m.checked, m.warnings = a, warnings
	m.renderSeq++
	m.rendering, m.files, m.created, m.renderErr = true, nil, nil, nil
	m.setReviewContent()
	m.vp.GotoTop()
	return tea.Batch(renderCmd(m.renderSeq, m.genOptions(false)), m.spin.Tick)
}

func (m *model) genOptions(force bool) generate.Options {
	return generateOptions(m.checked, m.d, m.opts, force)
}

// generateOptions says what generate does with checked answers a.
func generateOptions(a *answers.Answers, d *draft, opts Options, force bool) generate.Options {
	return generate.Options{
		Answers: a, Out: opts.BundleDir, SASLPassword: d.password(),
		Force: force, Version: opts.Version, Rand: opts.Rand,
	}
}

func (m *model) updateReview(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "enter" {
		if m.rendering || m.renderErr != nil {
			return m, nil
		}
		m.history = append(m.history, m.page)
		return m, m.startGenerate(false)
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return m, cmd
}

func (m *model) startGenerate(force bool) tea.Cmd {
	m.page = page{s: stateGenerate}
	m.genErr, m.conflict = nil, false
	return tea.Batch(generateCmd(m.genOptions(force), m.opts.AnswersPath), m.spin.Tick)
}

func (m *model) setReviewContent() {
	if m.checked == nil {
		return
	}
	text := reviewText(m.checked, m.d.password() != "", m.warnings, m.opts, m.fileList())
	m.vp.SetContent(ansi.Wordwrap(text, max(m.width-1, 20), ""))
}

// fileList is the review's list of files, or why there is none yet.
func (m *model) fileList() string {
	switch {
	case m.rendering:
		return "  " + m.spin.View() + " listing the files…\n"
	case m.renderErr != nil:
		return m.st.bad.Render("  "+m.renderErr.Error()) + "\n  Esc to go back and change the answers.\n"
	}
	return fileListText(m.files, m.created)
}

// fileListText lists the bundle's files, where each is installed, and
// which are new keys or private (0600).
func fileListText(files []generators.File, created []string) string {
	var b strings.Builder
	for _, f := range files {
		mark := ""
		switch {
		case slices.Contains(created, f.Path):
			mark = "  (new key)"
		case f.Mode == 0o600:
			mark = "  (0600)"
		}
		target := ""
		if f.Target != "" {
			target = " → " + f.Target
		}
		fmt.Fprintf(&b, "  %s%s%s\n", f.Path, target, mark)
	}
	return b.String()
}

// reviewText is every answer and every file that will be written.
func reviewText(a *answers.Answers, password bool, warnings []answers.Problem, opts Options, files string) string {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "  %-18s %s\n", k, v) }
	b.WriteString("Server\n")
	row("Host name", a.Server.Hostname)
	row("IPv4", orNone(strings.Join(a.Server.IPv4, ", ")))
	row("IPv6", orNone(strings.Join(a.Server.IPv6, ", ")))
	row("Distribution", a.Server.Distro)
	b.WriteString("Domains\n")
	for _, d := range a.Domains {
		alg := "RSA " + fmt.Sprint(d.DKIM.Bits)
		if d.DKIM.Algorithm == answers.AlgBoth {
			alg += " + ed25519"
		}
		row(d.Name, fmt.Sprintf("DKIM %s (%s)", d.DKIM.Selector, alg))
		row("", fmt.Sprintf("DMARC p=%s, reports to %s", d.DMARC.Policy, orNone(d.DMARC.RUA)))
	}
	b.WriteString("Topology\n")
	r := a.Relay
	switch r.Mode {
	case answers.ModeDirect:
		row("Mail leaves", "directly to the recipients")
	case answers.ModeOffice365Connect:
		row("Mail leaves", "into Office 365 via "+r.Office365.SmartHost)
		row("Connector", "by "+r.Office365.ConnectorAuth)
	case answers.ModeOffice365SMTPAuth:
		row("Mail leaves", "into Office 365 by SMTP AUTH as "+r.Office365.Username)
	case answers.ModeSmarthost:
		row("Mail leaves", "through "+r.RelayHost())
		if r.Smarthost.Username != "" {
			row("Login", r.Smarthost.Username)
		}
		if len(r.Smarthost.Destinations) > 0 {
			row("Only for", strings.Join(r.Smarthost.Destinations, ", "))
		}
	}
	if r.UsesSASLClient() {
		pw := "not given: sasl_passwd gets a placeholder"
		if password {
			pw = "given (written only to postfix/sasl_passwd, 0600)"
		}
		row("Password", pw)
	}
	up := "no"
	switch {
	case len(r.Upstream.Networks) > 0 && r.Upstream.SASL:
		up = strings.Join(r.Upstream.Networks, ", ") + " and SASL logins"
	case len(r.Upstream.Networks) > 0:
		up = strings.Join(r.Upstream.Networks, ", ")
	case r.Upstream.SASL:
		up = "SASL logins on port 587"
	}
	row("Relays for others", up)
	row("DNS provider", a.DNS.Provider)
	switch a.DNS.Provider {
	case answers.ProviderRFC2136:
		row("Primary server", a.DNS.RFC2136.Server)
		row("TSIG key file", a.DNS.RFC2136.TSIGKeyFile+" (read when publishing)")
	case answers.ProviderCloudflare:
		row("API token", cmpOr(a.DNS.Cloudflare.TokenFile, "from $"+publish.CloudflareTokenEnv)+" (read when publishing)")
	}
	if len(warnings) > 0 {
		b.WriteString("Warnings\n")
		for _, w := range warnings {
			b.WriteString("  ! " + w.String() + "\n")
		}
	}
	fmt.Fprintf(&b, "Answers file\n  %s\n", opts.AnswersPath)
	fmt.Fprintf(&b, "Files written to %s\n", filepath.Clean(opts.BundleDir))
	b.WriteString(files)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
