package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/tui/dashboard"
	"github.com/sendready/sendready/tui/dnsrecords"
)

// Exit codes of Run.
const (
	exitOK        = 0
	exitFailed    = 1
	exitInterrupt = 130
)

// model is the wizard: one state per screen, the draft every page edits,
// and the child model of the screen on show.
type model struct {
	ctx  context.Context
	opts Options
	d    *draft
	st   styles

	page    page
	history []page // pages behind this one, for Esc
	form    *huh.Form
	// banner lists the problems found on this page at review.
	banner []string

	spin     spinner.Model
	det      detect.Result
	detected bool

	// review
	checked   *answers.Answers
	warnings  []answers.Problem
	renderSeq int
	rendering bool
	files     []generators.File
	created   []string
	renderErr error
	vp        viewport.Model

	// generation and after
	genErr    error
	conflict  bool
	out       outcome
	records   dnsrecords.Model
	dash      dashboard.Model
	dashReady bool
	pub       publishScreen
	mig       migrateScreen

	width, height int
	confirmQuit   bool
	// quit is set when the program ends; save says Run must save the
	// answers (the admin quit before the bundle was written).
	quit     bool
	save     bool
	exitCode int
}

func newModel(ctx context.Context, opts Options) *model {
	d := newDraft(opts.Answers, opts.Now())
	st := newStyles(opts.Color)
	sp := spinner.New(spinner.WithSpinner(spinner.Dot))
	if opts.Color {
		sp.Style = lipgloss.NewStyle().Foreground(lipgloss.Color("212"))
	}
	vp := viewport.New()
	vp.SoftWrap = true
	return &model{ctx: ctx, opts: opts, d: d, st: st, spin: sp, width: 80, height: 24, vp: vp,
		pub: newPublishScreen(), mig: newMigrateScreen()}
}

// Init starts detection.
func (m *model) Init() tea.Cmd {
	return tea.Batch(detectCmd(m.ctx, m.opts.System), m.spin.Tick)
}

// Update routes a message: global keys first (quit, back), then I/O
// results, then the screen on show.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, m.resize()
	case hangupMsg:
		return m.quitNow(exitInterrupt)
	case tea.KeyPressMsg:
		if next, cmd, done := m.globalKey(msg); done {
			return next, cmd
		}
	case detectDoneMsg:
		m.det, m.detected = msg.res, true
		m.d.detected(msg.res)
		if msg.res.OnlyPrivate {
			m.d.nat = "behind NAT"
		}
		if m.page.s == stateDetect {
			m.page.s = stateWelcome
		}
		return m, nil
	case renderDoneMsg:
		if msg.seq == m.renderSeq {
			m.rendering = false
			m.files, m.created, m.renderErr = msg.files, msg.created, msg.err
			m.setReviewContent()
		}
		return m, nil
	case generateDoneMsg:
		return m.generated(msg)
	case planDoneMsg:
		return m.planDone(msg)
	case pushDoneMsg:
		return m.pushDone(msg)
	case migrateDoneMsg:
		return m.migrateDone(msg)
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		if m.spinning() {
			return m, cmd
		}
		return m, nil
	}
	return m.updateScreen(msg)
}

// spinning reports a screen waiting for I/O, with the spinner on show.
func (m *model) spinning() bool {
	switch m.page.s {
	case stateDetect, stateGenerate:
		return true
	case statePublish:
		return m.pub.phase == pubPlanning || m.pub.phase == pubPushing
	case stateMigrate:
		return m.mig.busy
	}
	return m.rendering
}

// globalKey handles the quit confirmation, Ctrl-C, q and Esc.
func (m *model) globalKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd, bool) {
	key := k.String()
	if m.confirmQuit {
		switch key {
		case "y", "Y", "enter", "ctrl+c":
			mm, cmd := m.quitNow(exitInterrupt)
			return mm, cmd, true
		case "n", "N", "esc", "q":
			m.confirmQuit = false
		}
		return m, nil, true
	}
	switch key {
	case "ctrl+c":
		m.confirmQuit = true
		return m, nil, true
	case "q":
		if m.page.s == stateDashboard {
			m.page = page{s: stateSummary}
			return m, nil, true
		}
		if m.page.s == stateSummary {
			mm, cmd := m.quitNow(exitOK)
			return mm, cmd, true
		}
		if !m.textFocused() {
			m.confirmQuit = true
			return m, nil, true
		}
	case "esc":
		return m, m.back(), true
	}
	return m, nil, false
}

// textFocused reports whether a text field has the keyboard.
func (m *model) textFocused() bool {
	if !m.page.isForm() || m.form == nil {
		return false
	}
	_, ok := m.form.GetFocusedField().(*huh.Input)
	return ok
}

// quitNow ends the program; before the bundle is written Run saves the
// answers.
func (m *model) quitNow(code int) (tea.Model, tea.Cmd) {
	m.quit = true
	m.exitCode = code
	m.save = m.page.s < stateRecords && m.page.s != stateDetect
	return m, tea.Quit
}

// back goes to the previous page, keeping every answer.
func (m *model) back() tea.Cmd {
	switch m.page.s {
	case statePublish:
		if m.pub.phase == pubPushing {
			return nil
		}
		m.pub.seq++
		m.page = page{s: stateRecords}
		return nil
	case stateMigrate, stateDashboard:
		m.mig.seq++
		m.page = page{s: stateRecords}
		return nil
	case stateFailed:
		m.page = page{s: stateReview}
		return m.enterReview()
	}
	if len(m.history) == 0 || m.page.s >= stateGenerate {
		return nil
	}
	prev := m.history[len(m.history)-1]
	m.history = m.history[:len(m.history)-1]
	m.banner = nil
	return m.enter(prev)
}

// forward goes to p, remembering where we were.
func (m *model) forward(p page) tea.Cmd {
	m.history = append(m.history, m.page)
	return m.enter(p)
}

// enter shows page p.
func (m *model) enter(p page) tea.Cmd {
	m.page = p
	m.form = nil
	switch {
	case p.isForm():
		m.form = huh.NewForm(m.d.group(p)).WithTheme(m.st.theme).WithShowHelp(false)
		return tea.Batch(m.form.Init(), m.resize())
	case p.s == stateReview:
		return m.enterReview()
	}
	return nil
}

// bodyHeight is what is left for the screen under the header and banner
// and above the footer.
func (m *model) bodyHeight() int {
	return max(m.height-3-len(m.bannerLines()), 5)
}

func (m *model) resize() tea.Cmd {
	var cmds []tea.Cmd
	h := m.bodyHeight()
	if m.form != nil {
		// Room under the fields for a validation error of up to three lines.
		fh := max(h-4, 3)
		m.form.WithWidth(min(m.width, 100)).WithHeight(fh)
		_, cmd := m.form.Update(tea.WindowSizeMsg{Width: min(m.width, 100), Height: fh})
		cmds = append(cmds, cmd)
	}
	m.vp.SetWidth(m.width)
	m.vp.SetHeight(h)
	m.setReviewContent()
	m.setPublishContent()
	m.setMigrateContent()
	sz := tea.WindowSizeMsg{Width: m.width, Height: h}
	if m.page.s >= stateRecords {
		var cmd tea.Cmd
		m.records, cmd = m.records.Update(sz)
		cmds = append(cmds, cmd)
	}
	if m.dashReady {
		var cmd tea.Cmd
		m.dash, cmd = m.dash.Update(sz)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

// updateScreen passes msg to the screen on show.
func (m *model) updateScreen(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch {
	case m.page.s == stateWelcome:
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "enter" {
			return m, m.forward(m.d.next(m.page))
		}
	case m.page.isForm() && m.form != nil:
		f, cmd := m.form.Update(msg)
		m.form = f.(*huh.Form)
		if m.form.State == huh.StateCompleted {
			m.d.clearDashes()
			m.banner = nil
			return m, m.forward(m.d.next(m.page))
		}
		return m, cmd
	case m.page.s == stateReview:
		return m.updateReview(msg)
	case m.page.s == stateFailed:
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "f" && m.conflict {
			return m, m.startGenerate(true)
		}
	case m.page.s == stateRecords:
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "enter" {
			return m, m.leaveRecords()
		}
		var cmd tea.Cmd
		m.records, cmd = m.records.Update(msg)
		return m, cmd
	case m.page.s == statePublish:
		return m.updatePublish(msg)
	case m.page.s == stateMigrate:
		return m.updateMigrate(msg)
	case m.page.s == stateDashboard:
		var cmd tea.Cmd
		m.dash, cmd = m.dash.Update(msg)
		if m.dash.Done() {
			m.page = page{s: stateSummary}
		}
		return m, cmd
	case m.page.s == stateSummary:
		if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "enter" {
			return m.quitNow(exitOK)
		}
	}
	// Messages for the dashboard keep flowing while another screen shows.
	if m.dashReady && m.page.s != stateDashboard {
		if _, key := msg.(tea.KeyPressMsg); !key {
			var cmd tea.Cmd
			m.dash, cmd = m.dash.Update(msg)
			return m, cmd
		}
	}
	return m, nil
}

// View draws the header, the screen, and the key help, fitting the window.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m *model) render() string {
	n, total, name := m.d.step(m.page)
	header := m.st.title.Render("sendready") + m.st.dim.Render(fmt.Sprintf("  step %d of %d · %s", n, total, name))
	var body, help string
	switch {
	case m.confirmQuit:
		body, help = m.quitView(), "y quit · n stay"
	case m.page.s == stateDetect || m.page.s == stateWelcome:
		body, help = m.welcomeView(), "enter start · q quit"
	case m.page.isForm():
		body, help = m.form.View(), "enter next · shift+tab previous field · esc back · ctrl+c quit"
	case m.page.s == stateReview:
		body, help = m.vp.View(), "enter write the bundle · ↑/↓ scroll · esc back · q quit"
	case m.page.s == stateGenerate:
		body, help = m.spin.View()+" Writing the bundle to "+m.opts.BundleDir+"…", "ctrl+c quit"
	case m.page.s == stateFailed:
		body, help = m.failedView()
	case m.page.s == stateRecords:
		body, help = m.records.View(), "enter "+m.recordsNext()+" · q quit"
	case m.page.s == statePublish:
		body, help = m.publishView()
	case m.page.s == stateMigrate:
		body, help = m.migrateView()
	case m.page.s == stateDashboard:
		body, help = m.dash.View(), "q stop checking · esc records · ctrl+c quit"
	default:
		body, help = m.summaryView(), "enter or q exit"
	}
	lines := []string{header}
	lines = append(lines, m.bannerLines()...)
	lines = append(lines, "")
	body = clip(body, m.bodyHeight())
	return strings.Join(lines, "\n") + "\n" + body + "\n" + m.st.dim.Render(truncate(help, m.width))
}

// recordsNext names the screen after the records.
func (m *model) recordsNext() string {
	switch {
	case m.checked != nil && publishes(m.checked.DNS.Provider):
		return "publish through " + m.checked.DNS.Provider
	case m.checked != nil && isOffice365(m.checked):
		return "the Office 365 checklist"
	}
	return "start the live checks"
}

// bannerLines are the review's problems about this page, one line each.
func (m *model) bannerLines() []string {
	var out []string
	for _, b := range m.banner {
		out = append(out, m.st.bad.Render(truncate("✗ "+b, m.width)))
	}
	return out
}

func (m *model) quitView() string {
	msg := "Quit the wizard?"
	if m.page.s < stateRecords {
		msg += "\n\nYour answers are saved to " + m.opts.AnswersPath + " (never the password);\nrun sendready --resume to carry on."
	}
	return m.st.title.Render(msg)
}

// clip keeps the first h lines of s.
func clip(s string, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	return strings.Join(lines, "\n")
}

// truncate cuts a line to w cells.
func truncate(s string, w int) string {
	if w <= 0 || lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
