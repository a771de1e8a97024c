package providers

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// Names returns the owner names of want, lower case with the trailing
// dot, each once, in order: the names a Provider reads before MakePlan.
func Names(want []records.Record) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range want {
		n := canonName(r.Name)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// canonName is a name as compared: lower case, with the trailing dot.
func canonName(s string) string { return strings.ToLower(dns.Fqdn(strings.TrimSpace(s))) }

// planner builds one zone's plan.
type planner struct {
	zone    string // lower case, no trailing dot
	opts    Options
	changes []Change
}

func makePlan(zone string, want []records.Record, have []Existing, opts Options) (Plan, error) {
	z := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	if z == "" {
		return Plan{}, errors.New("providers: no zone given")
	}
	for _, w := range want {
		if !strings.EqualFold(strings.TrimSuffix(w.Zone, "."), z) {
			return Plan{}, fmt.Errorf("providers: record %s %s belongs to zone %q, not %s", w.Name, w.Type, w.Zone, z)
		}
		if !dns.IsSubDomain(z+".", canonName(w.Name)) {
			return Plan{}, fmt.Errorf("providers: record %s %s lies outside zone %s", w.Name, w.Type, z)
		}
		switch w.Type {
		case records.TypeA, records.TypeAAAA, records.TypeMX, records.TypeTXT, records.TypeCNAME:
		default:
			return Plan{}, fmt.Errorf("providers: record %s: type %s is not published through a DNS provider", w.Name, w.Type)
		}
		if _, err := w.RR(); err != nil {
			return Plan{}, fmt.Errorf("providers: %w", err)
		}
	}
	pl := &planner{zone: z, opts: opts}
	for _, name := range Names(want) {
		var w []records.Record
		for _, r := range want {
			if canonName(r.Name) == name {
				w = append(w, r)
			}
		}
		var h []*Existing
		for i := range have {
			if canonName(have[i].Name) == name {
				e := have[i]
				e.Value = normalizeValue(e.Type, e.Value)
				h = append(h, &e)
			}
		}
		start := len(pl.changes)
		if err := pl.name(name, w, h); err != nil {
			return Plan{}, err
		}
		pl.settleTTLs(pl.changes[start:])
	}
	return Plan{Zone: z, Changes: pl.changes}, nil
}

func (pl *planner) add(a Action, old *Existing, nw records.Record, why string) {
	pl.changes = append(pl.changes, Change{Action: a, Old: old, New: nw, Why: why})
}

// keep lists a record the zone holds and the plan leaves as it is.
func (pl *planner) keep(old *Existing, why string) {
	r := old.Record
	r.Zone = pl.zone
	pl.add(Unchanged, old, r, why)
}

// refuse lists a record sendready would have to delete: a conflict, or
// with Force the delete.
func (pl *planner) refuse(old *Existing, wanted records.Record, why string) {
	if pl.opts.Force {
		pl.add(Delete, old, records.Record{}, why+"; deleted (--force)")
		return
	}
	pl.add(Conflict, old, wanted, why+"; delete it by hand, or let --force delete it")
}

// name plans every record at one owner name.
func (pl *planner) name(name string, want []records.Record, have []*Existing) error {
	byType := func(types ...string) []*Existing {
		var out []*Existing
		for _, h := range have {
			for _, t := range types {
				if h.Type == t {
					out = append(out, h)
				}
			}
		}
		return out
	}
	wantType := func(types ...string) []records.Record {
		var out []records.Record
		for _, w := range want {
			for _, t := range types {
				if w.Type == t {
					out = append(out, w)
				}
			}
		}
		return out
	}
	if cn := wantType(records.TypeCNAME); len(cn) > 0 {
		if len(want) > 1 {
			return fmt.Errorf("providers: %s: a CNAME cannot share its name with other records (RFC 1034 §3.6.2)", name)
		}
		return pl.cname(cn[0], byType(records.TypeCNAME), byType(records.TypeA, records.TypeAAAA, records.TypeMX, records.TypeTXT))
	}
	if cn := byType(records.TypeCNAME); len(cn) > 0 {
		why := fmt.Sprintf("%s is a CNAME to %s, and a name with a CNAME can hold no other record (RFC 1034 §3.6.2), so the %s records cannot be added; remove the CNAME", name, cn[0].Value, joinTypes(want))
		if !pl.opts.Force {
			for _, w := range want {
				pl.add(Conflict, cn[0], w, why+", or delete it with --force")
			}
			return nil
		}
		for _, c := range cn {
			pl.add(Delete, c, records.Record{}, why+"; deleted (--force)")
		}
	}
	// Records are planned in the order of want's first record of each kind.
	done := map[string]bool{}
	for _, w := range want {
		switch w.Type {
		case records.TypeMX:
			if !done["mx"] {
				done["mx"] = true
				pl.ownedSet(name, wantType(records.TypeMX), byType(records.TypeMX))
			}
		case records.TypeA, records.TypeAAAA:
			if !done["addr"] {
				done["addr"] = true
				pl.ownedSet(name, wantType(records.TypeA, records.TypeAAAA), byType(records.TypeA, records.TypeAAAA))
			}
		case records.TypeTXT:
			if !done["txt"] {
				done["txt"] = true
				if err := pl.txt(name, wantType(records.TypeTXT), byType(records.TypeTXT)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func joinTypes(want []records.Record) string {
	var out []string
	for _, w := range want {
		if !containsString(out, w.Type) {
			out = append(out, w.Type)
		}
	}
	return strings.Join(out, "/")
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// cname plans a CNAME sendready publishes (the Office 365 DKIM
// selectors): the name is sendready's, so another target is updated.
func (pl *planner) cname(w records.Record, cnames, other []*Existing) error {
	for _, o := range other {
		pl.refuse(o, w, fmt.Sprintf("%s holds %s %s, but sendready publishes a CNAME there, which can have no other record beside it (RFC 1034 §3.6.2)", o.Name, o.Type, display(o.Record)))
	}
	if pl.opts.Force || len(other) == 0 {
		switch {
		case len(cnames) == 0:
			pl.add(Create, nil, w, "no CNAME yet")
		case sameData(cnames[0].Record, w) && !cnames[0].Proxied:
			pl.keep(cnames[0], "already points at "+w.Value)
		default:
			pl.add(Update, cnames[0], w, fmt.Sprintf("the selector name is sendready's (from the answers): its target changes from %s to %s", cnames[0].Value, w.Value))
		}
	} else if len(cnames) > 0 {
		pl.keep(cnames[0], "left as it is until the conflict is resolved")
	}
	return nil
}

// ownedSet plans a record set sendready owns: the domain's MX set, or the
// mail host's A and AAAA. Records of the set that are not in the bundle
// are conflicts (deleted with Force).
func (pl *planner) ownedSet(name string, want []records.Record, have []*Existing) {
	used := make([]bool, len(have))
	var foreignWhy func(h *Existing) string
	switch want[0].Type {
	case records.TypeMX:
		foreignWhy = func(h *Existing) string {
			return fmt.Sprintf("MX %d %s is not in the bundle: sendready publishes the whole MX set of %s, and mail would also be delivered to %s", h.Priority, h.Value, name, h.Value)
		}
	default:
		foreignWhy = func(h *Existing) string {
			return fmt.Sprintf("%s %s is not one of this server's addresses (server.ipv4/ipv6): receivers would connect to, or check SPF and PTR against, another host", h.Type, h.Value)
		}
	}
	for _, w := range want {
		i := findHave(have, used, func(h *Existing) bool { return sameData(h.Record, w) })
		if i < 0 && w.Type == records.TypeMX {
			// Same exchange, another preference: an update.
			i = findHave(have, used, func(h *Existing) bool {
				return h.Type == w.Type && strings.EqualFold(dns.Fqdn(h.Value), dns.Fqdn(w.Value))
			})
		}
		if i < 0 {
			pl.add(Create, nil, w, "not in the zone yet")
			continue
		}
		used[i] = true
		h := have[i]
		switch {
		case h.Proxied:
			why := fmt.Sprintf("%s %s is proxied (Cloudflare's orange cloud): it resolves to Cloudflare, which does not pass mail on, and no longer matches the PTR record", h.Type, h.Value)
			if pl.opts.Force {
				pl.add(Update, h, w, why+"; set to DNS only (--force)")
			} else {
				pl.add(Conflict, h, w, why+"; set it to DNS only (grey cloud), or let --force do it")
			}
		case !sameData(h.Record, w):
			pl.add(Update, h, w, fmt.Sprintf("preference %d → %d", h.Priority, w.Priority))
		default:
			pl.keep(h, ttlNote(h, w))
		}
	}
	for i, h := range have {
		if !used[i] {
			pl.refuse(h, records.Record{}, foreignWhy(h))
		}
	}
}

func findHave(have []*Existing, used []bool, match func(*Existing) bool) int {
	for i, h := range have {
		if !used[i] && match(h) {
			return i
		}
	}
	return -1
}

// ttlNote says why a record whose value matches is unchanged.
func ttlNote(h *Existing, w records.Record) string {
	if h.TTL != w.TTL && w.TTL != 0 {
		return fmt.Sprintf("already published (TTL %d kept; the bundle says %d)", h.TTL, w.TTL)
	}
	return "already published"
}

// settleTTLs gives records that join an RRset keeping other records that
// RRset's TTL: an RRset has one TTL (RFC 2181 §5.2), and sendready does not
// change records it leaves alone.
func (pl *planner) settleTTLs(changes []Change) {
	stay := map[string]uint32{}
	for _, c := range changes {
		if (c.Action == Unchanged || c.Action == Conflict) && c.Old != nil {
			k := rrsetKey(c.Old.Record)
			if _, ok := stay[k]; !ok {
				stay[k] = c.Old.TTL
			}
		}
	}
	for i := range changes {
		c := &changes[i]
		if c.Action != Create && c.Action != Update {
			continue
		}
		if ttl, ok := stay[rrsetKey(c.New)]; ok && ttl != c.New.TTL {
			c.Why += fmt.Sprintf(" (TTL %d, as the other %s records at the name: an RRset has one TTL)", ttl, c.New.Type)
			c.New.TTL = ttl
		}
	}
}

func rrsetKey(r records.Record) string { return canonName(r.Name) + " " + r.Type }

// sameData reports whether a and b are the same resource record data: the
// TTL does not count, names compare case-insensitively, addresses by value.
func sameData(a, b records.Record) bool {
	if a.Type != b.Type || !strings.EqualFold(canonName(a.Name), canonName(b.Name)) {
		return false
	}
	return normalizeValue(a.Type, a.Value) == normalizeValue(b.Type, b.Value) && (a.Type != records.TypeMX || a.Priority == b.Priority)
}

// normalizeValue puts a value in the form values compare in: names lower
// case and fully qualified, addresses canonical, TXT unquoted and joined
// (a provider may report `"part one" "part two"`).
func normalizeValue(typ, v string) string {
	switch typ {
	case records.TypeMX, records.TypeCNAME, records.TypePTR:
		return canonName(v)
	case records.TypeA, records.TypeAAAA:
		if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
			return a.Unmap().String()
		}
	case records.TypeTXT:
		if strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) && len(v) >= 2 {
			if rr, err := dns.NewRR(". 0 IN TXT " + v); err == nil && rr != nil {
				return records.FromRR(rr).Value
			}
		}
	}
	return v
}

// display shows a record's data in a plan: TXT values quoted as one
// string, MX with its preference.
func display(r records.Record) string {
	switch r.Type {
	case records.TypeTXT:
		return fmt.Sprintf("%q", r.Value)
	case records.TypeMX:
		return fmt.Sprintf("%d %s", r.Priority, r.Value)
	}
	return r.Value
}
