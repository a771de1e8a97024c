package dnsrecords

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/records"
)

// line is one line of the listing; item is the index of the record it
// belongs to, -1 for headings and notes.
type line struct {
	text string
	item int
	mark bool // the selected record's own line
}

// lister builds the listing for one width (0: plain text, nothing cut or
// wrapped) and one selected item (-1: none).
type lister struct {
	m      Model
	width  int
	sel    int
	gutter string // before record and comment lines: room for the mark
	lines  []line
}

func (l *lister) add(item int, text string) {
	l.lines = append(l.lines, line{text: text, item: item})
}

// para adds text word-wrapped at the width: the first line after first,
// the others after rest.
func (l *lister) para(item int, text, first, rest string) {
	for _, p := range strings.Split(text, "\n") {
		if l.width <= 0 {
			l.add(item, first+p)
			first = rest
			continue
		}
		limit := max(10, l.width-ansi.StringWidth(first))
		for _, w := range strings.Split(ansi.Wrap(p, limit, ""), "\n") {
			l.add(item, strings.TrimRight(first+w, " "))
			first = rest
		}
	}
}

// record adds a record's line behind the selection mark. The selected
// record's line is shown whole, broken over lines indented by cont; the
// others are cut at the width.
func (l *lister) record(item int, text, cont string) {
	if l.width <= 0 {
		l.add(item, l.gutter+text)
		return
	}
	if item != l.sel {
		l.add(item, l.gutter+ansi.Truncate(text, l.width-2, "…"))
		return
	}
	first := l.width - 2
	rest := max(10, l.width-ansi.StringWidth(cont))
	total := ansi.StringWidth(text)
	l.lines = append(l.lines, line{text: "▸ " + l.m.style(selStyle, ansi.Cut(text, 0, first)), item: item, mark: true})
	for at := first; at < total; at += rest {
		l.add(item, cont+l.m.style(selStyle, ansi.Cut(text, at, at+rest)))
	}
}

// listing renders the records for the provider.
func (m Model) listing(width, sel int) []line {
	l := &lister{m: m, width: width, sel: sel, gutter: "  "}
	if len(m.items) == 0 {
		l.add(-1, "No records to publish.")
		return l.lines
	}
	if m.provider == ProviderCloudflare {
		l.cloudflare()
	} else {
		l.zoneLines()
	}
	l.ptrRequests()
	return l.lines
}

// zoneLines lists the records as zone-file lines, grouped by zone.
func (l *lister) zoneLines() {
	intro := "Zone-file lines: add them to each zone at your DNS provider, or import them as a zone file."
	if l.width > 0 {
		intro += " z copies them all."
	} else {
		// Plain text is a zone file as it stands: an indented line
		// would continue the previous owner.
		l.gutter = ""
	}
	l.para(-1, intro, "", "")
	item := 0
	for _, g := range groups(l.m.recs) {
		l.add(-1, "")
		l.add(-1, "$ORIGIN "+strings.TrimSuffix(g.zone, ".")+".")
		l.add(-1, "$TTL "+strconv.FormatUint(uint64(zoneTTL(g.recs)), 10))
		cols := make([][]string, len(g.recs))
		widths := make([]int, 4)
		for i, r := range g.recs {
			cols[i] = strings.SplitN(r.ZoneLine(g.zone), "\t", 5)
			for j := range 4 {
				if j < len(cols[i]) {
					widths[j] = max(widths[j], min(ansi.StringWidth(cols[i][j]), 28))
				}
			}
		}
		for i, r := range g.recs {
			for _, c := range commentLines(r.Comment) {
				l.para(item, c, l.gutter+"; ", l.gutter+"; ")
			}
			var b strings.Builder
			for j, f := range cols[i] {
				if j < 4 {
					b.WriteString(padRight(f, widths[j]) + " ")
				} else {
					b.WriteString(f)
				}
			}
			l.record(item, b.String(), "    ")
			item++
		}
	}
}

// cloudflare lists the records as Cloudflare's "Add record" form wants
// them: type, name relative to the zone, TTL, priority and the content on
// one line.
func (l *lister) cloudflare() {
	l.para(-1, "In Cloudflare, open DNS › Records › Add record and create each record below: Type, Name (\"@\" is the zone itself), TTL, Priority (MX only) and Content, each value on one line.", "", "")
	l.para(-1, "The mail server's A and AAAA records must be \"DNS only\" (grey cloud), never \"Proxied\": mail cannot pass through Cloudflare's proxy.", "• ", "  ")
	l.para(-1, "Paste each DKIM value in one piece: no quotes, no line breaks, nothing added.", "• ", "  ")
	item := 0
	for _, g := range groups(l.m.recs) {
		nameW, ttlW := len("Name"), len("TTL")
		for _, r := range g.recs {
			nameW = max(nameW, min(ansi.StringWidth(relName(r.Name, g.zone)), 28))
			ttlW = max(ttlW, len(strconv.FormatUint(uint64(r.TTL), 10)))
		}
		row := func(typ, name, ttl, prio, content string) string {
			return padRight(typ, 5) + " " + padRight(name, nameW) + " " + padRight(ttl, ttlW) + " " + padRight(prio, 4) + " " + content
		}
		l.add(-1, "")
		l.add(-1, "Zone "+strings.TrimSuffix(g.zone, "."))
		l.add(-1, "  "+l.m.style(faintStyle, strings.TrimRight(row("Type", "Name", "TTL", "Prio", "Content"), " ")))
		for _, r := range g.recs {
			prio := ""
			if r.Type == records.TypeMX {
				prio = strconv.Itoa(int(r.Priority))
			}
			l.record(item, row(r.Type, relName(r.Name, g.zone), strconv.FormatUint(uint64(r.TTL), 10), prio, copyValue(r)), "    ")
			l.comment(item, r)
			item++
		}
	}
}

// comment adds the record's "why" under it: for the selected record on
// screen, for every record in plain text.
func (l *lister) comment(item int, r records.Record) {
	if l.width > 0 && item != l.sel {
		return
	}
	for _, c := range commentLines(r.Comment) {
		l.para(item, c, "    ", "    ")
	}
}

// ptrRequests lists the PTR records, which the owner of each address sets.
func (l *lister) ptrRequests() {
	ps := ptrs(l.m.recs)
	if len(ps) == 0 {
		return
	}
	item := len(l.m.items) - len(ps)
	l.gutter = "  "
	l.add(-1, "")
	l.para(-1, "Ask your hosting provider (the owner of the IP) to set:", "", "")
	ipW := 0
	for _, r := range ps {
		ipW = max(ipW, ansi.StringWidth(ipOfReverse(r.Name)))
	}
	for _, r := range ps {
		ip := ipOfReverse(r.Name)
		text := "PTR " + copyValue(r) + "  (" + strings.TrimSuffix(r.Name, ".") + ")"
		if ip != "" {
			text = padRight(ip, ipW) + "  " + text
		}
		l.record(item, text, "    ")
		l.comment(item, r)
		item++
	}
}

// padRight pads s with spaces to width cells.
func padRight(s string, width int) string {
	if w := ansi.StringWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// ipOfReverse returns the address a reverse name (in-addr.arpa or
// ip6.arpa, with or without the trailing dot) stands for; "" when name is
// not one.
func ipOfReverse(name string) string {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case strings.HasSuffix(n, ".in-addr.arpa"):
		labels := strings.Split(strings.TrimSuffix(n, ".in-addr.arpa"), ".")
		if len(labels) != 4 {
			return ""
		}
		for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
			labels[i], labels[j] = labels[j], labels[i]
		}
		a, err := netip.ParseAddr(strings.Join(labels, "."))
		if err != nil || !a.Is4() {
			return ""
		}
		return a.String()
	case strings.HasSuffix(n, ".ip6.arpa"):
		nibbles := strings.Split(strings.TrimSuffix(n, ".ip6.arpa"), ".")
		if len(nibbles) != 32 {
			return ""
		}
		var b strings.Builder
		for i := 31; i >= 0; i-- {
			if len(nibbles[i]) != 1 {
				return ""
			}
			b.WriteString(nibbles[i])
			if i%4 == 0 && i > 0 {
				b.WriteString(":")
			}
		}
		a, err := netip.ParseAddr(b.String())
		if err != nil {
			return ""
		}
		return a.String()
	}
	return ""
}
