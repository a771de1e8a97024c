package dnsrecords

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/tui/internal/tuitest"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

func view(m Model) string { return ansi.Strip(m.View()) }

// selected returns the line with the selection mark.
func selected(t *testing.T, m Model) string {
	t.Helper()
	for _, l := range strings.Split(view(m), "\n") {
		if strings.HasPrefix(l, "▸ ") {
			return l
		}
	}
	t.Fatalf("no selected record in\n%s", view(m))
	return ""
}

// run runs cmd and the commands of a batch, collecting their messages;
// commands still running after a moment (timers) are left out.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		if b, ok := msg.(tea.BatchMsg); ok {
			var out []tea.Msg
			for _, c := range b {
				out = append(out, run(c)...)
			}
			return out
		}
		return []tea.Msg{msg}
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}

// clipboard returns the text of the tea.SetClipboard message among msgs.
func clipboard(t *testing.T, msgs []tea.Msg) string {
	t.Helper()
	want := reflect.TypeOf(tea.SetClipboard("")())
	for _, m := range msgs {
		if reflect.TypeOf(m) == want {
			return reflect.ValueOf(m).String()
		}
	}
	t.Fatalf("no clipboard message among %#v", msgs)
	return ""
}

func TestPlainGolden(t *testing.T) {
	recs := testRecords(t)
	for _, p := range []string{ProviderManual, ProviderCloudflare} {
		t.Run(p, func(t *testing.T) {
			golden.RequireEqual(t, Plain(recs, p))
		})
	}
	if Plain(recs, ProviderRFC2136) != Plain(recs, ProviderManual) {
		t.Error("rfc2136 and manual listings differ")
	}
}

// parseZone parses zone text with miekg/dns into records.
func parseZone(t *testing.T, text string) []records.Record {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	var out []records.Record
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, records.FromRR(rr))
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone does not parse: %v\n%s", err, text)
	}
	return out
}

// published is recs without the PTR requests and without what the zone
// text cannot carry (zone, comment).
func published(recs []records.Record) []records.Record {
	var out []records.Record
	for _, r := range recs {
		if r.Type != records.TypePTR {
			r.Zone, r.Comment = "", ""
			out = append(out, r)
		}
	}
	return out
}

func TestZoneLinesParse(t *testing.T) {
	recs := testRecords(t)
	want := published(recs)

	// What z copies.
	if got := parseZone(t, ZoneFragment(recs)); !reflect.DeepEqual(got, want) {
		t.Errorf("ZoneFragment parses to\n%+v\nwant\n%+v", got, want)
	}

	// What the screen shows: the zone section, marks aside, is a zone
	// file too.
	text := Plain(recs, ProviderManual)
	start := strings.Index(text, "$ORIGIN")
	end := strings.Index(text, "Ask your hosting provider (the owner of the IP) to set:")
	if start < 0 || end < start {
		t.Fatalf("no zone section, or PTRs before it:\n%s", text)
	}
	if got := parseZone(t, text[start:end]); !reflect.DeepEqual(got, want) {
		t.Errorf("the listing parses to\n%+v\nwant\n%+v", got, want)
	}
	for _, r := range recs {
		if r.Type != records.TypePTR && !strings.Contains(text, "\n; "+strings.Split(r.Comment, "\n")[0]+"\n") {
			t.Errorf("no comment line for %s %s", r.Name, r.Type)
		}
	}
	if !strings.Contains(text, `" "`) {
		t.Error("the 2048-bit DKIM zone line is not split into strings")
	}
}

func TestCloudflareListing(t *testing.T) {
	recs := testRecords(t)
	text := Plain(recs, ProviderCloudflare)
	zoneSection, ptrSection, ok := strings.Cut(text, "Ask your hosting provider (the owner of the IP) to set:")
	if !ok {
		t.Fatalf("no PTR section:\n%s", text)
	}
	for _, want := range []string{`"DNS only"`, "never \"Proxied\"", "DKIM value in one piece", "Type  Name             TTL  Prio Content"} {
		if !strings.Contains(zoneSection, want) {
			t.Errorf("no %q in\n%s", want, zoneSection)
		}
	}
	lines := strings.Split(zoneSection, "\n")
	for _, r := range recs {
		if r.Type == records.TypePTR {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(r.Name, "."), "."+r.Zone)
		if name == r.Zone {
			name = "@"
		}
		// One line holds the type, the relative name and the whole value.
		i := slices.IndexFunc(lines, func(l string) bool {
			f := strings.Fields(l)
			return len(f) > 3 && f[0] == r.Type && f[1] == name && strings.HasSuffix(l, copyValue(r))
		})
		if i < 0 {
			t.Errorf("no line for %s %s %q in\n%s", r.Type, name, copyValue(r), zoneSection)
			continue
		}
		if strings.HasSuffix(lines[i], ".") {
			t.Errorf("trailing dot: %q", lines[i])
		}
		if r.Type == records.TypeMX && !strings.Contains(lines[i], " 10 ") {
			t.Errorf("MX line without its priority: %q", lines[i])
		}
	}
	if strings.Contains(zoneSection, `"v=`) {
		t.Errorf("quoted TXT in the Cloudflare listing:\n%s", zoneSection)
	}
	for _, want := range []string{"192.0.2.10    PTR mail.example.com  (10.2.0.192.in-addr.arpa)", "2001:db8::10  PTR mail.example.com"} {
		if !strings.Contains(ptrSection, want) {
			t.Errorf("no %q in\n%s", want, ptrSection)
		}
		if strings.Contains(zoneSection, "PTR") {
			t.Errorf("a PTR record among the zone's records:\n%s", zoneSection)
		}
	}
}

func TestSelectAndScroll(t *testing.T) {
	for _, p := range []string{ProviderManual, ProviderCloudflare} {
		t.Run(p, func(t *testing.T) {
			m := New(testRecords(t), p, false)
			m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 12})
			steps := []struct{ key, want string }{
				{"", "MX"},
				{"down", "TXT"},
				{"j", "s2026._domainkey"},
				{"down", "_dmarc"},
				{"k", "s2026._domainkey"},
				{"up", "TXT"},
				{"end", "2001:db8::10"},
				{"down", "2001:db8::10"},
				{"up", "192.0.2.10"},
				{"home", "MX"},
				{"up", "MX"},
				{"pgdown", ""},
				{"pgup", "MX"},
			}
			for _, s := range steps {
				if s.key != "" {
					m, _ = m.Update(key(s.key))
				}
				l := selected(t, m)
				if !strings.Contains(l, s.want) {
					t.Fatalf("after %q: selected %q, want %q\n%s", s.key, l, s.want, view(m))
				}
			}
			m, _ = m.Update(key("end"))
			if v := view(m); strings.Contains(v, "$ORIGIN") || strings.Contains(v, "Zone example.com") || !strings.Contains(v, "↑ more") {
				t.Errorf("end: not scrolled down:\n%s", v)
			}
			m, _ = m.Update(key("home"))
			if v := view(m); !strings.Contains(v, "↓ more") || !strings.Contains(v, "DNS records to publish · "+p) {
				t.Errorf("home: not at the top:\n%s", v)
			}
		})
	}
}

func TestPageDownMoves(t *testing.T) {
	m := New(testRecords(t), ProviderManual, false)
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 12})
	prev := -1
	for range 20 {
		if m.sel <= prev && m.sel != len(m.items)-1 {
			t.Fatalf("pgdown went from %d to %d", prev, m.sel)
		}
		prev = m.sel
		m, _ = m.Update(key("pgdown"))
	}
	if m.sel != len(m.items)-1 {
		t.Errorf("pgdown stopped at %d of %d", m.sel, len(m.items))
	}
}

func TestSelectedRecordShownWhole(t *testing.T) {
	recs := testRecords(t)
	dkim := recs[2]
	for _, tc := range []struct{ provider, want string }{
		{ProviderCloudflare, dkim.Value},
		{ProviderManual, strings.SplitN(dkim.ZoneLine("example.com"), "\t", 5)[4]},
	} {
		m := New(recs, tc.provider, false)
		m, _ = m.Update(tea.WindowSizeMsg{Width: 60, Height: 40})
		m, _ = m.Update(key("down"))
		m, _ = m.Update(key("down"))
		squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if v := view(m); !strings.Contains(squash(v), squash(tc.want)) {
			t.Errorf("%s: the selected DKIM record is not shown whole:\n%s", tc.provider, v)
		}
		// Others are cut.
		m, _ = m.Update(key("down"))
		if v := view(m); strings.Contains(squash(v), squash(tc.want)) {
			t.Errorf("%s: an unselected DKIM record is shown whole:\n%s", tc.provider, v)
		}
	}
}

func TestCopy(t *testing.T) {
	recs := testRecords(t)
	for _, tc := range []struct {
		provider string
		moves    []string
		want     string
		notice   string
	}{
		{ProviderCloudflare, []string{"down", "down"}, recs[2].Value, "copied the TXT value of s2026._domainkey.example.com (410 characters)"},
		{ProviderManual, []string{"down", "down"}, recs[2].Value, "copied the TXT value"},
		{ProviderCloudflare, nil, "mail.example.com", "copied the MX value of example.com"},
		{ProviderManual, []string{"end"}, "mail.example.com", "copied the PTR value of 2001:db8::10 (16 characters)"},
		{ProviderManual, []string{"down", "down", "down"}, "v=DMARC1; p=none; rua=mailto:dmarc@example.com", "copied the TXT value of _dmarc"},
	} {
		m := New(recs, tc.provider, false)
		for _, k := range tc.moves {
			m, _ = m.Update(key(k))
		}
		m, cmd := m.Update(key("c"))
		if cmd == nil {
			t.Fatalf("%s %v: c returned no command", tc.provider, tc.moves)
		}
		if got := clipboard(t, run(cmd)); got != tc.want {
			t.Errorf("%s %v: copied %q, want %q", tc.provider, tc.moves, got, tc.want)
		}
		if v := view(m); !strings.Contains(v, "✓ "+tc.notice) {
			t.Errorf("%s %v: no notice %q in\n%s", tc.provider, tc.moves, tc.notice, v)
		}
	}
	if !strings.Contains(recs[2].Value, "p=MIIB") || strings.Contains(recs[2].Value, `"`) {
		t.Fatalf("test DKIM value %q", recs[2].Value)
	}
}

func TestCopyZone(t *testing.T) {
	recs := testRecords(t)
	m := New(recs, ProviderCloudflare, false)
	m, cmd := m.Update(key("z"))
	if got := clipboard(t, run(cmd)); got != ZoneFragment(recs) {
		t.Errorf("z copied\n%s\nwant\n%s", got, ZoneFragment(recs))
	}
	if v := view(m); !strings.Contains(v, "✓ copied the zone-file lines (7 records)") {
		t.Errorf("no notice in\n%s", v)
	}
}

func TestNoticeIsTransient(t *testing.T) {
	m := New(testRecords(t), ProviderManual, false)
	m, _ = m.Update(key("c"))
	first := m.noticeID
	m, _ = m.Update(key("c"))
	// The first copy's timer must not end the second copy's notice.
	m, _ = m.Update(clearNoticeMsg{id: first})
	if v := view(m); !strings.Contains(v, "✓ copied") {
		t.Errorf("a stale timer cleared the notice:\n%s", v)
	}
	m, _ = m.Update(clearNoticeMsg{id: m.noticeID})
	if v := view(m); strings.Contains(v, "copied") || !strings.Contains(v, "c copy value") {
		t.Errorf("the notice stayed:\n%s", v)
	}
	m, _ = m.Update(key("c"))
	m, _ = m.Update(key("down"))
	if v := view(m); strings.Contains(v, "copied") {
		t.Errorf("the notice stayed after a key:\n%s", v)
	}
}

func TestWindowSizes(t *testing.T) {
	recs := testRecords(t)
	for _, p := range []string{ProviderManual, ProviderCloudflare} {
		for _, color := range []bool{false, true} {
			for _, w := range []int{30, 40, 60, 80, 100, 132} {
				for _, h := range []int{5, 8, 16, 24, 40} {
					m := New(recs, p, color)
					m, _ = m.Update(tea.WindowSizeMsg{Width: w, Height: h})
					for _, k := range []string{"", "down", "down", "c", "pgdown", "end", "pgup", "up"} {
						if k != "" {
							m, _ = m.Update(key(k))
						}
						raw := m.View()
						lines := strings.Split(raw, "\n")
						if len(lines) > h {
							t.Errorf("%s %d×%d after %q: %d lines", p, w, h, k, len(lines))
						}
						for _, l := range lines {
							if ansi.StringWidth(l) > w {
								t.Errorf("%s %d×%d after %q: line wider than %d: %q", p, w, h, k, w, ansi.Strip(l))
							}
						}
						if !strings.Contains(ansi.Strip(raw), "▸ ") {
							t.Errorf("%s %d×%d after %q: no selected record visible:\n%s", p, w, h, k, ansi.Strip(raw))
						}
						if color != strings.Contains(raw, "\x1b[") {
							t.Errorf("%s color=%v: escape sequences %v", p, color, !color)
						}
					}
				}
			}
		}
	}
}

func TestNoRecords(t *testing.T) {
	m := New(nil, ProviderManual, false)
	if _, cmd := m.Update(key("c")); cmd != nil {
		t.Error("c copied something from an empty list")
	}
	if _, cmd := m.Update(key("z")); cmd != nil {
		t.Error("z copied something from an empty list")
	}
	if v := view(m); !strings.Contains(v, "No records to publish.") {
		t.Errorf("empty view:\n%s", v)
	}
	if got := Plain(nil, ProviderCloudflare); got != "No records to publish.\n" {
		t.Errorf("empty Plain %q", got)
	}
}

func TestIPOfReverse(t *testing.T) {
	for _, ip := range []string{"192.0.2.10", "2001:db8::10", "::ffff:192.0.2.1"} {
		a := mustAddr(ip)
		want := a.Unmap().String()
		if got := ipOfReverse(records.ReverseName(a)); got != want {
			t.Errorf("ipOfReverse(%s) = %q, want %q", records.ReverseName(a), got, want)
		}
	}
	for _, n := range []string{"example.com.", "2.0.192.in-addr.arpa.", "x.2.0.192.in-addr.arpa.", "1.2.ip6.arpa."} {
		if got := ipOfReverse(n); got != "" {
			t.Errorf("ipOfReverse(%s) = %q", n, got)
		}
	}
}

// copyModel wraps the screen as a program for teatest.
type copyModel struct{ m Model }

func (c copyModel) Init() tea.Cmd { return c.m.Init() }

func (c copyModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	c.m, cmd = c.m.Update(msg)
	return c, cmd
}

func (c copyModel) View() tea.View { return tea.NewView(c.m.View()) }

// TestCopyOSC52 runs the screen in a program: c makes it write the OSC 52
// sequence with the value to the terminal.
func TestCopyOSC52(t *testing.T) {
	recs := testRecords(t)
	tm := teatest.NewTestModel(t, copyModel{New(recs, ProviderCloudflare, true)}, teatest.WithInitialTermSize(80, 24))
	tm.Send(key("down"))
	tm.Send(key("down"))
	tm.Type("c")
	seq := []byte(ansi.SetSystemClipboard(recs[2].Value))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, seq) }, teatest.WithDuration(5*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestSeveralZones(t *testing.T) {
	recs := testRecords(t)
	recs = append(recs[:7:7], records.Record{Zone: "example.net", Name: "mail.example.net.", Type: records.TypeA, TTL: 300, Value: "192.0.2.10", Comment: "The server's address."})
	z := ZoneFragment(recs)
	if !strings.Contains(z, "$ORIGIN example.com.\n$TTL 3600\n") || !strings.Contains(z, "\n$ORIGIN example.net.\n$TTL 300\n; The server's address.\nmail\t300\tIN\tA\t192.0.2.10\n") {
		t.Errorf("two zones:\n%s", z)
	}
	if got, want := parseZone(t, z), published(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("parses to\n%+v\nwant\n%+v", got, want)
	}
	if text := Plain(recs, ProviderCloudflare); !strings.Contains(text, "Zone example.net\n") || strings.Contains(text, "Ask your hosting provider") {
		t.Errorf("cloudflare, two zones, no PTR:\n%s", text)
	}
}

func key(s string) tea.KeyPressMsg { return tuitest.Key(s) }
