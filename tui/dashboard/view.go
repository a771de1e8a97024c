package dashboard

import (
	"fmt"
	"strings"

	"github.com/sendready/sendready/tui/internal/nav"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/dnscheck"
)

// symbols keep the matrix readable without colour.
var symbols = map[dnscheck.Status]string{
	dnscheck.StatusPass:    "✓",
	dnscheck.StatusFail:    "✗",
	dnscheck.StatusPending: "…",
	dnscheck.StatusWarn:    "!",
	dnscheck.StatusError:   "?",
	dnscheck.StatusSkipped: "-",
}

// notAsked is the cell of a server that was not asked for a check.
const notAsked = "-"

var (
	styles = map[dnscheck.Status]lipgloss.Style{
		dnscheck.StatusPass:    lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		dnscheck.StatusFail:    lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
		dnscheck.StatusPending: lipgloss.NewStyle().Foreground(lipgloss.Color("6")),
		dnscheck.StatusWarn:    lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		dnscheck.StatusError:   lipgloss.NewStyle().Foreground(lipgloss.Color("5")),
		dnscheck.StatusSkipped: lipgloss.NewStyle().Faint(true),
	}
	boldStyle  = lipgloss.NewStyle().Bold(true)
	faintStyle = lipgloss.NewStyle().Faint(true)
)

// paint colours s for status st when colour is on.
func (m Model) paint(st dnscheck.Status, s string) string {
	if !m.opts.Color {
		return s
	}
	if style, ok := styles[st]; ok {
		return style.Render(s)
	}
	return s
}

func (m Model) style(style lipgloss.Style, s string) string {
	if !m.opts.Color {
		return s
	}
	return style.Render(s)
}

// size is the window size, 80×24 until the first tea.WindowSizeMsg.
func (m Model) size() (int, int) {
	return nav.Size(m.width, m.height)
}

// column is one server of the matrix.
type column struct {
	kind   dnscheck.Kind
	server string
	head   string // "auth 1"
	short  string // "a1"
}

// columnsOf lists the distinct servers of the report's observations:
// authoritative first, then recursive, then others (the SMTP probe), each
// in order of first appearance.
func columnsOf(rep dnscheck.Report) []column {
	type group struct {
		long, short string
		cols        []column
	}
	groups := []*group{{long: "auth", short: "a"}, {long: "res", short: "r"}, {long: "smtp", short: "s"}}
	seen := map[string]bool{}
	for _, r := range rep.Checks {
		for _, o := range r.Observations {
			key := string(o.Kind) + "|" + o.Server
			if seen[key] {
				continue
			}
			seen[key] = true
			g := groups[2]
			switch o.Kind {
			case dnscheck.Authoritative:
				g = groups[0]
			case dnscheck.Recursive:
				g = groups[1]
			}
			g.cols = append(g.cols, column{kind: o.Kind, server: o.Server})
		}
	}
	var out []column
	for _, g := range groups {
		for i, c := range g.cols {
			c.head = fmt.Sprintf("%s %d", g.long, i+1)
			c.short = fmt.Sprintf("%s%d", g.short, i+1)
			out = append(out, c)
		}
	}
	return out
}

// cellRank orders observation statuses for a cell: the worst one shows.
var cellRank = map[dnscheck.Status]int{
	dnscheck.StatusSkipped: 0, dnscheck.StatusPass: 1, dnscheck.StatusWarn: 2,
	dnscheck.StatusPending: 3, dnscheck.StatusError: 4, dnscheck.StatusFail: 5,
}

// cell is what server c said for check r: the worst of its observations,
// false when it was not asked.
func cell(r dnscheck.Result, c column) (dnscheck.Status, bool) {
	var st dnscheck.Status
	asked := false
	for _, o := range r.Observations {
		if o.Kind != c.kind || o.Server != c.server {
			continue
		}
		if !asked || cellRank[o.Status] > cellRank[st] {
			st = o.Status
		}
		asked = true
	}
	return st, asked
}

// layout is the matrix's column geometry for one width.
type layout struct {
	width   int
	labelW  int
	cols    []column
	heads   []string
	colW    int
	detailW int // 0: no detail column
}

const (
	statusW    = 9 // "✗ pending"
	minDetailW = 12
)

func (m Model) layout(w int) layout {
	lay := layout{width: w, labelW: len("check"), cols: columnsOf(m.report)}
	for _, r := range m.report.Checks {
		lay.labelW = max(lay.labelW, ansi.StringWidth(rowLabel(r)))
	}
	lay.labelW = min(lay.labelW, 24)
	fixed := 2 + lay.labelW + 1 + statusW + 1
	headsOf := func(short bool) ([]string, int) {
		var hs []string
		cw := 0
		for _, c := range lay.cols {
			h := c.head
			if short {
				h = c.short
			}
			hs = append(hs, h)
			cw = max(cw, len(h)+1)
		}
		return hs, cw
	}
	lay.heads, lay.colW = headsOf(false)
	if fixed+len(lay.cols)*lay.colW+minDetailW > w {
		lay.heads, lay.colW = headsOf(true)
	}
	lay.detailW = w - fixed - len(lay.cols)*lay.colW
	if lay.detailW < minDetailW/2 {
		lay.detailW = 0
	}
	return lay
}

// clean makes text from DNS answers safe and measurable on screen: tabs
// become spaces, other control characters (escape sequences in a TXT
// record) U+FFFD. Newlines stay.
func clean(s string) string { return sanitize(s, false) }

func sanitize(s string, keepTab bool) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n', r == '\t' && keepTab:
			return r
		case r == '\t':
			return ' '
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			return '\uFFFD'
		}
		return r
	}, s)
}

// pad pads s with spaces to width cells (s is cut when wider).
func pad(s string, width int) string {
	if sw := ansi.StringWidth(s); sw > width {
		return ansi.Truncate(s, width, "…")
	} else if sw < width {
		return s + strings.Repeat(" ", width-sw)
	}
	return s
}

// wrap wraps text (which may hold newlines) to width cells, first line
// after first, the others after rest.
func wrap(text string, width int, first, rest string) []string {
	limit := max(width-ansi.StringWidth(first), 10)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		for _, l := range strings.Split(ansi.Wrap(para, limit, ""), "\n") {
			prefix := rest
			if len(out) == 0 {
				prefix = first
			}
			out = append(out, strings.TrimRight(prefix+l, " "))
		}
	}
	return out
}

// row renders check r as one matrix line.
func (m Model) row(lay layout, r dnscheck.Result, selected bool) string {
	var b strings.Builder
	label := pad(clean(rowLabel(r)), lay.labelW)
	if selected {
		b.WriteString("▸ ")
		label = m.style(boldStyle, label)
	} else {
		b.WriteString("  ")
	}
	b.WriteString(label + " ")
	st := r.Status
	b.WriteString(m.paint(st, symbols[st]+" "+pad(string(st), statusW-2)) + " ")
	for i, c := range lay.cols {
		sym, cst := notAsked, dnscheck.StatusSkipped
		if s, ok := cell(r, c); ok {
			sym, cst = symbols[s], s
			if sym == "" {
				sym = "?"
			}
		}
		at := (len(lay.heads[i]) - 1) / 2
		b.WriteString(strings.Repeat(" ", at) + m.paint(cst, sym) + strings.Repeat(" ", lay.colW-at-1))
	}
	if lay.detailW > 0 {
		b.WriteString(ansi.Truncate(clean(r.Detail), lay.detailW, "…"))
	}
	return b.String()
}

// header is the matrix's column header line.
func (m Model) header(lay layout) string {
	var b strings.Builder
	b.WriteString("  " + pad("check", lay.labelW) + " " + pad("status", statusW) + " ")
	for _, h := range lay.heads {
		b.WriteString(pad(h, lay.colW))
	}
	if lay.detailW > 0 {
		b.WriteString("detail")
	}
	return m.style(faintStyle, strings.TrimRight(b.String(), " "))
}

// expanded is what shows under the selected row when it needs work: its
// detail, its fix and, when pending, the live countdown.
func (m Model) expanded(r dnscheck.Result, w int) []string {
	if r.Status == dnscheck.StatusPass || r.Status == dnscheck.StatusSkipped {
		return nil
	}
	var out []string
	if r.Detail != "" {
		out = append(out, wrap(clean(r.Detail), w, "    ", "    ")...)
	}
	if r.Fix != "" {
		fix := wrap(clean(r.Fix), w, "    fix: ", "         ")
		fix[0] = "    " + m.paint(r.Status, "fix:") + strings.TrimPrefix(fix[0], "    fix:")
		out = append(out, fix...)
	}
	if s, ok := clearsIn(r, m.now.Sub(m.at)); ok {
		out = append(out, "    "+m.paint(dnscheck.StatusPending, s))
	}
	return out
}

// body is the matrix's scrollable part: domain headings (with several
// domains), one line per check, and the selected row's expansion, which
// spans lines [s0, s1).
func (m Model) body(lay layout) (lines []string, s0, s1 int) {
	multi := len(domains(m.report)) > 1
	domain := ""
	for i, r := range m.report.Checks {
		if multi && r.Domain != domain {
			domain = r.Domain
			lines = append(lines, m.style(boldStyle, domain))
		}
		if i == m.sel {
			s0 = len(lines)
		}
		lines = append(lines, m.row(lay, r, i == m.sel))
		if i == m.sel {
			lines = append(lines, m.expanded(r, lay.width)...)
			s1 = len(lines)
		}
	}
	return lines, s0, s1
}

// legend maps column headers to server addresses, wrapped at width.
func legend(lay layout) []string {
	var items []string
	for i, c := range lay.cols {
		items = append(items, lay.heads[i]+" "+clean(c.server))
	}
	var out []string
	line := "  servers:"
	for _, it := range items {
		if ansi.StringWidth(line)+2+ansi.StringWidth(it) > lay.width && line != "  servers:" {
			out = append(out, line)
			line = strings.Repeat(" ", len("  servers:"))
		}
		line += "  " + it
	}
	if len(items) > 0 {
		out = append(out, line)
	}
	return out
}

// frame is the matrix screen's geometry: the body, the selected block,
// the legend (nil when there is no room) and the body's visible height.
type frame struct {
	lay    layout
	body   []string
	s0, s1 int
	legend []string
	bodyH  int
}

// matrixChrome counts the lines around the body: title, column header
// and footer.
const matrixChrome = 3

func (m Model) frame() frame {
	w, h := m.size()
	f := frame{lay: m.layout(w)}
	f.body, f.s0, f.s1 = m.body(f.lay)
	avail := max(1, h-matrixChrome)
	f.legend = legend(f.lay)
	if len(f.body)+len(f.legend) > avail {
		f.legend = nil
	}
	f.bodyH = avail - len(f.legend)
	return f
}

// bodyHeight is how many body lines fit.
func (m Model) bodyHeight() int {
	return m.frame().bodyH
}

// fit scrolls so that the selected row and its expansion are visible.
func (m Model) fit() Model {
	if !m.have || m.Done() {
		m.offset = 0
		return m
	}
	f := m.frame()
	switch {
	case f.s1-f.s0 > f.bodyH || f.s0 < m.offset:
		m.offset = f.s0
	case f.s1 > m.offset+f.bodyH:
		m.offset = f.s1 - f.bodyH
	}
	m.offset = max(0, min(m.offset, len(f.body)-f.bodyH))
	return m
}

// title is the first line: what is checked on the left, the round and
// countdown on the right.
func (m Model) title(w int) string {
	var ds []string
	if m.have {
		ds = domains(m.report)
	} else {
		for _, e := range m.exps {
			ds = append(ds, e.Domain)
		}
	}
	left := "sendready · DNS checks"
	if len(ds) > 0 {
		left += " for " + joinAnd(ds)
	}
	var right string
	switch {
	case m.inFlight:
		right = fmt.Sprintf("round %d · checking…", m.rounds+1)
	case m.Done():
		right = fmt.Sprintf("round %d", m.rounds)
	case !m.next.IsZero():
		right = fmt.Sprintf("round %d · next check in %s", m.rounds, fmtWait(max(0, m.next.Sub(m.now))))
	}
	room := w - ansi.StringWidth(right) - 1
	if ansi.StringWidth(left) > room {
		left = ansi.Truncate(left, max(0, room), "…")
	}
	gap := max(1, w-ansi.StringWidth(left)-ansi.StringWidth(right))
	return m.style(boldStyle, left) + strings.Repeat(" ", gap) + right
}

// View renders the matrix: one row per check, one column per server kind,
// colour + symbol per cell, the selected row's fix, a countdown for pending
// rows, and when everything passes a summary.
func (m Model) View() string {
	w, h := m.size()
	var lines []string
	switch {
	case !m.have:
		lines = append(lines, m.title(w), "")
		lines = append(lines, wrap("Asking every authoritative server and resolver for the records…", w, "  ", "  ")...)
	case m.Done():
		lines = m.summary(w)
	default:
		lines = m.matrix(w)
	}
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(ansi.Truncate(l, w, ""), " ")
	}
	return strings.Join(lines, "\n")
}

// matrix renders the check × server screen.
func (m Model) matrix(w int) []string {
	m = m.fit()
	f := m.frame()
	lines := []string{m.title(w), m.header(f.lay)}
	end := min(len(f.body), m.offset+f.bodyH)
	lines = append(lines, f.body[m.offset:end]...)
	for range f.bodyH - (end - m.offset) {
		lines = append(lines, "")
	}
	lines = append(lines, f.legend...)

	help := "↑↓ select · r re-check"
	switch {
	case m.offset > 0 && end < len(f.body):
		help = "↕ more · " + help
	case m.offset > 0:
		help = "↑ more · " + help
	case end < len(f.body):
		help = "↓ more · " + help
	}
	return append(lines, m.footer(w, help))
}

// footer is the last matrix line: the tally on the left, the key help on
// the right, the tally shortened (skipped left out, then words) when the
// line is too narrow.
func (m Model) footer(w int, help string) string {
	t := tallyOf(m.report)
	render := func(short, withSkipped bool) string {
		var parts []string
		for _, c := range t {
			if c.status == dnscheck.StatusSkipped && !withSkipped {
				continue
			}
			text := symbols[c.status] + " " + c.String()
			if short {
				text = fmt.Sprintf("%s%d", symbols[c.status], c.n)
			}
			parts = append(parts, m.paint(c.status, text))
		}
		sep := "  "
		if short {
			sep = " "
		}
		return "  " + strings.Join(parts, sep)
	}
	for _, v := range [][2]bool{{false, true}, {false, false}, {true, true}} {
		foot := render(v[0], v[1])
		if gap := w - ansi.StringWidth(foot) - ansi.StringWidth(help); gap >= 2 {
			return foot + strings.Repeat(" ", gap) + m.style(faintStyle, help)
		}
	}
	return "  " + m.style(faintStyle, help)
}

// summary is the all-green screen: the headline, the warnings, the
// skipped checks.
func (m Model) summary(w int) []string {
	lines := []string{m.title(w), ""}
	head := wrap(summaryLine(m.report), w, "  ✓ ", "    ")
	for i := range head {
		head[i] = m.paint(dnscheck.StatusPass, head[i])
	}
	lines = append(lines, head...)
	var warns []dnscheck.Result
	var skipped []string
	for _, r := range m.report.Checks {
		switch r.Status {
		case dnscheck.StatusWarn:
			warns = append(warns, r)
		case dnscheck.StatusSkipped:
			skipped = append(skipped, rowLabel(r))
		}
	}
	if len(warns) > 0 {
		lines = append(lines, "", "  Warnings (mail works; worth fixing):")
		for _, r := range warns {
			text := clean(rowLabel(r) + " " + r.Domain + " — " + r.Detail)
			ws := wrap(text, w, "  ! ", "    ")
			ws[0] = "  " + m.paint(dnscheck.StatusWarn, "!") + strings.TrimPrefix(ws[0], "  !")
			lines = append(lines, ws...)
			if r.Fix != "" {
				lines = append(lines, wrap(clean(r.Fix), w, "    fix: ", "         ")...)
			}
		}
	}
	if len(skipped) > 0 {
		lines = append(lines, "")
		lines = append(lines, wrap("Skipped: "+strings.Join(skipped, ", "), w, "  ", "  ")...)
	}
	lines = append(lines, "", m.style(faintStyle, "  r re-check"))
	return lines
}
