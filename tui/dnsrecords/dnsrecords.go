// Package dnsrecords is the wizard's "publish these records" screen: every
// record in the form the chosen DNS provider needs, scrollable, with a key
// that copies the selected record to the clipboard (OSC 52, which works over
// SSH).
package dnsrecords

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sendready/sendready/tui/internal/nav"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/records"
)

// Providers whose listing differs: Cloudflare's web UI wants one value per
// field; every other provider (manual, rfc2136) gets zone-file lines.
const (
	ProviderCloudflare = "cloudflare"
	ProviderManual     = "manual"
	ProviderRFC2136    = "rfc2136"
)

// noticeTTL is how long the "copied" notice stays.
const noticeTTL = 3 * time.Second

// Model is the records screen.
type Model struct {
	recs     []records.Record
	provider string

	color         bool
	width, height int
	items         []records.Record // selectable records, in listing order
	sel           int              // index into items
	offset        int              // first listing line shown
	notice        string           // transient "copied" notice
	noticeID      int
}

// clearNoticeMsg ends the notice it was scheduled for.
type clearNoticeMsg struct{ id int }

// New returns the screen for recs (as in dns/records.json, plus the PTR
// requests) and provider (manual, cloudflare, rfc2136: manual and rfc2136
// show zone-file lines; cloudflare shows one line per value, as its web UI
// wants). color is false for NO_COLOR/TERM=dumb.
func New(recs []records.Record, provider string, color bool) Model {
	m := Model{recs: recs, provider: provider, color: color}
	for _, g := range groups(recs) {
		m.items = append(m.items, g.recs...)
	}
	m.items = append(m.items, ptrs(recs)...)
	return m
}

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Update handles window size and keys: up/down/pgup/pgdown/home/end scroll
// and select, c copies the selected record's value (tea.SetClipboard / OSC
// 52), z copies the whole zone fragment.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case clearNoticeMsg:
		if msg.id == m.noticeID {
			m.notice = ""
		}
	case tea.KeyPressMsg:
		n := len(m.items)
		if sel, ok := nav.Move(msg.String(), m.sel, n); ok {
			m.sel = sel
			m.notice = ""
			break
		}
		switch msg.String() {
		case "pgup", "pgdown":
			m.sel = m.page(msg.String() == "pgdown")
		case "c":
			if m.sel >= 0 && m.sel < n {
				r := m.items[m.sel]
				v := copyValue(r)
				of := strings.TrimSuffix(r.Name, ".")
				if ip := ipOfReverse(r.Name); r.Type == records.TypePTR && ip != "" {
					of = ip
				}
				return m.copied(v, fmt.Sprintf("copied the %s value of %s (%d characters)", r.Type, of, len(v)))
			}
		case "z":
			if z := ZoneFragment(m.recs); z != "" {
				return m.copied(z, fmt.Sprintf("copied the zone-file lines (%d records)", len(m.items)-len(ptrs(m.recs))))
			}
		default:
			return m, nil
		}
		m.sel = max(0, min(m.sel, n-1))
		m.notice = ""
	}
	return m.fit(), cmd
}

// copied sets the notice and returns the clipboard command with the
// notice's timer.
func (m Model) copied(value, notice string) (Model, tea.Cmd) {
	m.noticeID++
	m.notice = notice
	id := m.noticeID
	return m.fit(), tea.Batch(
		tea.SetClipboard(value),
		tea.Tick(noticeTTL, func(time.Time) tea.Msg { return clearNoticeMsg{id: id} }),
	)
}

// size is the window size, 80×24 until the first tea.WindowSizeMsg.
func (m Model) size() (int, int) {
	return nav.Size(m.width, m.height)
}

// bodyHeight is how many listing lines fit between the title and the help
// line.
func (m Model) bodyHeight() int {
	_, h := m.size()
	return max(1, h-2)
}

// block returns the listing lines [s0, s1) of the selected item, with the
// headings right above it, and the line of its mark.
func block(lines []line, sel int) (s0, s1, mark int) {
	s0, s1 = -1, -1
	for i, l := range lines {
		if l.item == sel {
			if s0 < 0 {
				s0 = i
			}
			s1 = i + 1
			if l.mark {
				mark = i
			}
		}
	}
	if s0 < 0 {
		return 0, 0, 0
	}
	for s0 > 0 && lines[s0-1].item < 0 {
		s0--
	}
	return s0, s1, mark
}

// fit scrolls so that the selected record is visible.
func (m Model) fit() Model {
	w, _ := m.size()
	lines := m.listing(w, m.sel)
	bh := m.bodyHeight()
	s0, s1, mark := block(lines, m.sel)
	switch {
	case s1-s0 > bh:
		// Too tall: as much of it as fits with the mark in view.
		m.offset = max(s0, mark-bh+1)
	case s0 < m.offset:
		m.offset = s0
	case s1 > m.offset+bh:
		m.offset = s1 - bh
	}
	m.offset = max(0, min(m.offset, len(lines)-bh))
	return m
}

// page returns the item a page down (or up) from the selected one.
func (m Model) page(down bool) int {
	if len(m.items) == 0 {
		return 0
	}
	w, _ := m.size()
	lines := m.listing(w, m.sel)
	s0, _, _ := block(lines, m.sel)
	target := s0 - m.bodyHeight()
	if down {
		target = s0 + m.bodyHeight()
	}
	best := m.sel
	for i := range m.items {
		a, _, _ := block(lines, i)
		if down && a <= target && i > best || !down && a >= target && i < best {
			best = i
		}
	}
	if best == m.sel {
		if down {
			best++
		} else {
			best--
		}
	}
	return best
}

// View renders the visible part of the list, fitting the window (80×24 at
// least), with a one-line key help.
func (m Model) View() string {
	w, h := m.size()
	m = m.fit()
	lines := m.listing(w, m.sel)
	bh := m.bodyHeight()
	title := "DNS records to publish"
	if m.provider != "" {
		title += " · " + m.provider
	}
	out := []string{m.style(boldStyle, title)}
	end := min(len(lines), m.offset+bh)
	for _, l := range lines[m.offset:end] {
		out = append(out, l.text)
	}
	for range bh - (end - m.offset) {
		out = append(out, "")
	}
	foot := m.style(faintStyle, help(m.offset > 0, end < len(lines)))
	if m.notice != "" {
		foot = m.style(noticeStyle, "✓ "+m.notice)
	}
	out = append(out, foot)
	if len(out) > h {
		out = out[len(out)-h:]
	}
	for i, l := range out {
		out[i] = strings.TrimRight(ansi.Truncate(l, w, "…"), " ")
	}
	return strings.Join(out, "\n")
}

// help is the key help line, with scroll marks.
func help(above, below bool) string {
	h := "↑↓ select · pgup/pgdn · c copy value · z copy zone file"
	switch {
	case above && below:
		h = "↕ more · " + h
	case above:
		h = "↑ more · " + h
	case below:
		h = "↓ more · " + h
	}
	return h
}

var (
	boldStyle   = lipgloss.NewStyle().Bold(true)
	faintStyle  = lipgloss.NewStyle().Faint(true)
	noticeStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	selStyle    = lipgloss.NewStyle().Bold(true)
)

func (m Model) style(s lipgloss.Style, text string) string {
	if !m.color {
		return text
	}
	return s.Render(text)
}

// Plain lists every record as plain lines (accessible mode, TERM=dumb).
func Plain(recs []records.Record, provider string) string {
	m := New(recs, provider, false)
	var b strings.Builder
	for _, l := range m.listing(0, -1) {
		b.WriteString(strings.TrimRight(l.text, " ") + "\n")
	}
	return b.String()
}

// zoneGroup is the records of one zone, in order.
type zoneGroup struct {
	zone string
	recs []records.Record
}

// groups returns the non-PTR records by zone, zones in order of first
// appearance.
func groups(recs []records.Record) []zoneGroup {
	var out []zoneGroup
	for _, r := range recs {
		if r.Type == records.TypePTR {
			continue
		}
		i := slices.IndexFunc(out, func(g zoneGroup) bool { return g.zone == r.Zone })
		if i < 0 {
			out = append(out, zoneGroup{zone: r.Zone})
			i = len(out) - 1
		}
		out[i].recs = append(out[i].recs, r)
	}
	return out
}

// ptrs returns the PTR requests, for the owner of the addresses.
func ptrs(recs []records.Record) []records.Record {
	var out []records.Record
	for _, r := range recs {
		if r.Type == records.TypePTR {
			out = append(out, r)
		}
	}
	return out
}

// ZoneFragment is what z copies: every record except the PTR requests as
// zone-file lines, per zone a $ORIGIN and $TTL header and a "; why"
// comment above each record. "" when there is none.
func ZoneFragment(recs []records.Record) string {
	var b strings.Builder
	for i, g := range groups(recs) {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL %d\n", strings.TrimSuffix(g.zone, "."), zoneTTL(g.recs))
		for _, r := range g.recs {
			for _, c := range commentLines(r.Comment) {
				b.WriteString("; " + c + "\n")
			}
			b.WriteString(r.ZoneLine(g.zone) + "\n")
		}
	}
	return b.String()
}

// zoneTTL is the $TTL of a zone fragment: the smallest TTL of its records
// (every line carries its own TTL anyway).
func zoneTTL(recs []records.Record) uint32 {
	t := recs[0].TTL
	for _, r := range recs {
		t = min(t, r.TTL)
	}
	return t
}

// commentLines splits a record comment into its lines, without empty ones.
func commentLines(c string) []string {
	var out []string
	for _, l := range strings.Split(c, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// copyValue is what c copies: the value as a web interface wants it, TXT
// unquoted and whole, host names without the trailing dot.
func copyValue(r records.Record) string {
	switch r.Type {
	case records.TypeMX, records.TypeCNAME, records.TypePTR:
		return strings.TrimSuffix(r.Value, ".")
	}
	return r.Value
}

// relName is the owner relative to zone: "@" for the apex.
func relName(name, zone string) string {
	n := strings.TrimSuffix(name, ".")
	z := strings.TrimSuffix(zone, ".")
	switch {
	case strings.EqualFold(n, z):
		return "@"
	case z != "" && len(n) > len(z) && strings.EqualFold(n[len(n)-len(z)-1:], "."+z):
		return n[:len(n)-len(z)-1]
	}
	return n + "."
}
