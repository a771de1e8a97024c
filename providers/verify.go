package providers

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sendready/sendready/records"
)

// Verify compares what a zone holds after Apply, read again, with what
// the plan leaves it holding, for every RRset (name and type) the plan
// creates, updates or deletes a record in. It lists each difference in
// words; none means the re-read shows exactly what was applied. Values
// compare as in MakePlan; TTLs must match too.
func Verify(p Plan, now []Existing) []string {
	touched := map[string]bool{}
	var order []string
	touch := func(r records.Record) {
		k := rrsetKey(r)
		if !touched[k] {
			touched[k] = true
			order = append(order, k)
		}
	}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			touch(c.New)
		case Update:
			touch(c.New)
			touch(c.Old.Record)
		case Delete:
			touch(c.Old.Record)
		}
	}
	want := map[string][]records.Record{}
	for _, c := range p.Changes {
		var r *records.Record
		switch c.Action {
		case Create, Update, Unchanged:
			r = &c.New
		case Conflict:
			if c.Old != nil {
				r = &c.Old.Record
			}
		}
		if r != nil && touched[rrsetKey(*r)] {
			want[rrsetKey(*r)] = append(want[rrsetKey(*r)], *r)
		}
	}
	got := map[string][]Existing{}
	for _, e := range now {
		k := rrsetKey(e.Record)
		if touched[k] {
			got[k] = append(got[k], e)
		}
	}
	var diffs []string
	sort.Strings(order)
	for _, k := range order {
		w, g := want[k], got[k]
		used := make([]bool, len(g))
		for _, r := range w {
			i := -1
			for j, e := range g {
				if !used[j] && sameData(e.Record, r) {
					i = j
					break
				}
			}
			if i < 0 {
				diffs = append(diffs, fmt.Sprintf("%s %s %s is missing", r.Name, r.Type, display(r)))
				continue
			}
			used[i] = true
			if g[i].TTL != r.TTL {
				diffs = append(diffs, fmt.Sprintf("%s %s %s has TTL %d, the plan says %d", r.Name, r.Type, display(r), g[i].TTL, r.TTL))
			}
			if g[i].Proxied && (r.Type == records.TypeA || r.Type == records.TypeAAAA || r.Type == records.TypeCNAME) {
				diffs = append(diffs, fmt.Sprintf("%s %s %s is still proxied", r.Name, r.Type, display(r)))
			}
		}
		for j, e := range g {
			if !used[j] {
				diffs = append(diffs, fmt.Sprintf("%s %s %s is there, but the plan does not leave it", e.Name, e.Type, display(e.Record)))
			}
		}
	}
	return diffs
}

// Summary counts a plan's changes by action, in words: "2 to create, 1 to
// update, 4 unchanged".
func (p Plan) Summary() string {
	n := map[Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	var parts []string
	for _, a := range []struct {
		a    Action
		text string
	}{{Create, "to create"}, {Update, "to update"}, {Delete, "to delete"}, {Unchanged, "unchanged"}, {Conflict, "in conflict"}} {
		if n[a.a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[a.a], a.text))
		}
	}
	if len(parts) == 0 {
		return "no records"
	}
	return strings.Join(parts, ", ")
}
