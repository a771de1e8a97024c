package tui

import (
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/providers"
)

// pubPhase is where the Publish screen is.
type pubPhase int

const (
	pubPlanning pubPhase = iota // opening the provider, reading the zones
	pubPlanned                  // the plan is shown
	pubPushing                  // applying it
	pubPushed                   // pushed and read back, or the push failed (err)
	pubFailed                   // the provider could not be opened or a zone read
)

// publishScreen is the Publish screen: the plan of every zone through the
// answers' provider, then the push and its read-back.
type publishScreen struct {
	phase pubPhase
	// seq tells the answer of the latest Cmd from those of Cmds the admin
	// left behind (s, Esc, r).
	seq    int
	res    planned
	result string // the read-back comparison after a push
	err    error
	vp     viewport.Model
}

func newPublishScreen() publishScreen {
	vp := viewport.New()
	vp.SoftWrap = true
	return publishScreen{vp: vp}
}

// leaveRecords goes on from the records: to Publish when the provider has
// an API, to the Office 365 checklist, or to the live checks.
func (m *model) leaveRecords() tea.Cmd {
	if publishes(m.checked.DNS.Provider) {
		return m.enterPublish()
	}
	return m.afterPublish()
}

// enterPublish shows the Publish screen and plans in a Cmd.
func (m *model) enterPublish() tea.Cmd {
	m.page = page{s: statePublish}
	m.pub.seq++
	m.pub.phase, m.pub.res, m.pub.result, m.pub.err = pubPlanning, planned{}, "", nil
	m.setPublishContent()
	return tea.Batch(planCmd(m.ctx, m.pub.seq, providerOpener(m.opts), m.checked, m.opts), m.spin.Tick)
}

// afterPublish goes on to the Office 365 checklist or the live checks.
func (m *model) afterPublish() tea.Cmd {
	m.pub.seq++ // a plan still running is left behind
	if isOffice365(m.checked) {
		return m.enterMigrate()
	}
	return m.startDashboard()
}

func (m *model) planDone(msg planDoneMsg) (tea.Model, tea.Cmd) {
	if msg.seq != m.pub.seq || m.page.s != statePublish {
		return m, nil
	}
	m.pub.res, m.pub.err = msg.res, msg.err
	m.pub.phase = pubPlanned
	if msg.err != nil {
		m.pub.phase = pubFailed
	}
	m.setPublishContent()
	m.pub.vp.GotoTop()
	return m, nil
}

func (m *model) pushDone(msg pushDoneMsg) (tea.Model, tea.Cmd) {
	if msg.seq != m.pub.seq || m.page.s != statePublish {
		return m, nil
	}
	m.pub.phase, m.pub.result, m.pub.err = pubPushed, msg.text, msg.err
	m.setPublishContent()
	m.pub.vp.GotoTop()
	return m, nil
}

// canPush reports a plan with changes and no conflict.
func (p *publishScreen) canPush() bool {
	return p.phase == pubPlanned && p.res.pending() > 0 && p.res.conflicts() == 0
}

func (m *model) updatePublish(msg tea.Msg) (tea.Model, tea.Cmd) {
	p := &m.pub
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			switch {
			case p.phase == pubPlanning || p.phase == pubPushing:
				return m, nil
			case p.canPush():
				p.phase = pubPushing
				m.setPublishContent()
				return m, tea.Batch(pushCmd(m.ctx, p.seq, p.res), m.spin.Tick)
			}
			return m, m.afterPublish()
		case "s":
			if p.phase != pubPushing {
				return m, m.afterPublish()
			}
			return m, nil
		case "r":
			if p.phase == pubFailed || p.phase == pubPlanned || p.phase == pubPushed && p.err != nil {
				return m, m.enterPublish()
			}
			return m, nil
		}
	}
	var cmd tea.Cmd
	p.vp, cmd = p.vp.Update(msg)
	return m, cmd
}

// publishStatus is what the screen says above the plan.
func (m *model) publishStatus() string {
	p := &m.pub
	prov := m.checked.DNS.Provider
	later := "Later: sendready dns push " + dnsArgs(m.opts)
	var s string
	switch p.phase {
	case pubPlanning:
		s = m.spin.View() + " Reading the zones through " + prov + "…"
	case pubFailed:
		s = m.st.bad.Render("Could not plan through "+prov+":") + "\n" + p.err.Error() + "\n" + publishHint(p.err) +
			"\nr tries again; Enter skips publishing. " + later
	case pubPlanned:
		switch n := p.res.conflicts(); {
		case n > 0:
			s = m.st.bad.Render(fmt.Sprintf("Nothing is pushed: %d conflict(s), marked below;", n)) + " each one's \"why\" says what to do. " +
				"sendready dns push --force resolves those that --force can:\n  sendready dns push --force " + dnsArgs(m.opts) +
				"\nEnter continues without publishing."
		case p.res.pending() == 0:
			s = m.st.good.Render("Nothing to do:") + " the zones hold every record of the bundle."
		default:
			s = fmt.Sprintf("Changes pending in %d zone(s). ", p.res.pending()) + m.st.key.Render("Enter pushes them") +
				" through " + prov + ", then reads every zone again; s skips publishing."
		}
	case pubPushing:
		s = m.spin.View() + fmt.Sprintf(" Pushing %d zone(s) through %s…", p.res.pending(), prov)
	case pubPushed:
		if p.err == nil {
			s = m.st.good.Render("Pushed:") + " every zone, read back, holds what the plan says. Enter goes on."
		} else {
			s = m.st.bad.Render("The push failed:") + " " + p.err.Error() + "\n" + publishHint(p.err) +
				"\nr plans again; Enter skips publishing. " + later
		}
	}
	return ansi.Wrap(s, max(m.width-1, 20), "")
}

// setPublishContent puts the plan (and the push's result) in the
// viewport, under the status lines.
func (m *model) setPublishContent() {
	p := &m.pub
	if m.checked == nil {
		return
	}
	status := strings.Count(m.publishStatus(), "\n") + 1
	p.vp.SetWidth(m.width)
	p.vp.SetHeight(max(m.bodyHeight()-status-1, 3))
	var b strings.Builder
	if p.result != "" {
		b.WriteString(p.result + "\n")
	}
	b.WriteString(p.res.text())
	p.vp.SetContent(m.styledPlan(hangWrap(strings.TrimRight(b.String(), "\n"), max(m.width-1, 20))))
}

// hangLabel is what a continued line is indented under: a label ("why: ",
// "do:  "), a checklist mark ("✓ 3  ") or the indentation.
var hangLabel = regexp.MustCompile(`^(\s*[a-z]+:\s+|\S \d+\s+|\s+)`)

// hangWrap wraps each line of plain text to width, continuing it under
// its text after the label (a heading: four cells in).
func hangWrap(text string, width int) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		label := hangLabel.FindString(l)
		ind := ansi.StringWidth(label)
		if ind == 0 || ind > width/2 {
			label, ind = "", 4
		}
		for i, w := range strings.Split(ansi.Wrap(strings.TrimPrefix(l, label), width-ind, ""), "\n") {
			if i == 0 {
				out = append(out, label+w)
			} else {
				out = append(out, strings.Repeat(" ", ind)+w)
			}
		}
	}
	return strings.Join(out, "\n")
}

// styledPlan marks the conflicts of a plan's text.
func (m *model) styledPlan(text string) string {
	lines := strings.Split(text, "\n")
	conflict := false
	for i, l := range lines {
		if strings.HasPrefix(l, "  ") && len(l) > 2 && l[2] != ' ' {
			conflict = strings.HasPrefix(l[2:], string(providers.Conflict))
		} else if !strings.HasPrefix(l, " ") {
			conflict = false
		}
		if conflict {
			lines[i] = m.st.bad.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

func (m *model) publishView() (string, string) {
	p := &m.pub
	body := m.publishStatus()
	if p.phase != pubPlanning && p.phase != pubFailed {
		body += "\n\n" + p.vp.View()
	}
	var help string
	switch {
	case p.phase == pubPlanning:
		help = "s skip publishing · esc records · ctrl+c quit"
	case p.phase == pubPushing:
		help = "↑/↓ scroll · ctrl+c quit"
	case p.canPush():
		help = "enter push · s skip · r plan again · ↑/↓ scroll · esc records"
	case p.phase == pubFailed || p.err != nil:
		help = "r try again · enter skip · esc records · q quit"
	default:
		help = "enter continue · ↑/↓ scroll · esc records · q quit"
	}
	return body, help
}
