package tui

import (
	"strings"

	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/migrate"
)

// migrateScreen is the Office 365 checklist: the migration's steps, which
// are done, and the next one's action.
type migrateScreen struct {
	seq   int
	busy  bool
	state migrate.State
	steps []migrate.Step
	vp    viewport.Model
}

func newMigrateScreen() migrateScreen {
	vp := viewport.New()
	vp.SoftWrap = true
	return migrateScreen{vp: vp}
}

// enterMigrate shows the checklist and looks at the server and the
// records in a Cmd.
func (m *model) enterMigrate() tea.Cmd {
	m.page = page{s: stateMigrate}
	m.mig.seq++
	m.mig.busy, m.mig.steps = true, nil
	m.setMigrateContent()
	return tea.Batch(migrateCmd(m.ctx, m.mig.seq, migrationState(m.opts), m.checked), m.spin.Tick)
}

func (m *model) migrateDone(msg migrateDoneMsg) (tea.Model, tea.Cmd) {
	if msg.seq != m.mig.seq || m.page.s != stateMigrate {
		return m, nil
	}
	m.mig.busy, m.mig.state = false, msg.state
	m.mig.steps = migrationSteps(m.checked, msg.state, m.opts)
	m.setMigrateContent()
	m.mig.vp.GotoTop()
	return m, nil
}

func (m *model) updateMigrate(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			m.mig.seq++
			return m, m.startDashboard()
		case "r":
			if !m.mig.busy {
				return m, m.enterMigrate()
			}
			return m, nil
		}
	}
	var cmd tea.Cmd
	m.mig.vp, cmd = m.mig.vp.Update(msg)
	return m, cmd
}

// setMigrateContent puts the styled checklist in the viewport.
func (m *model) setMigrateContent() {
	if m.checked == nil {
		return
	}
	m.mig.vp.SetWidth(m.width)
	m.mig.vp.SetHeight(max(m.bodyHeight()-2, 3))
	if m.mig.steps == nil {
		m.mig.vp.SetContent("")
		return
	}
	text := strings.TrimRight(checklistText(m.mig.steps, m.mig.state, m.opts), "\n")
	lines := strings.Split(hangWrap(text, max(m.width-1, 20)), "\n")
	next := false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "✓"):
			lines[i], next = m.st.good.Render(l), false
		case strings.HasPrefix(l, "→"):
			lines[i], next = m.st.title.Render(l), true
		case strings.HasPrefix(l, "!"):
			lines[i] = m.st.warn.Render(l)
		case strings.HasPrefix(l, "·") || strings.HasPrefix(l, "-"):
			lines[i], next = m.st.dim.Render(l), false
		case next && strings.HasPrefix(l, "     do:"):
			lines[i] = m.st.key.Render(l)
		}
	}
	m.mig.vp.SetContent(strings.Join(lines, "\n"))
}

func (m *model) migrateView() (string, string) {
	if m.mig.busy {
		return m.spin.View() + " Looking at Postfix (postconf -n) and the domains' records…", "enter skip to the live checks · esc records · ctrl+c quit"
	}
	return m.st.title.Render("Migration to Office 365") + "\n\n" + m.mig.vp.View(), "enter live checks · r look again · ↑/↓ scroll · esc records · q quit"
}
