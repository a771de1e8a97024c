package providers

import (
	"fmt"
	"strings"

	"github.com/sendready/sendready/records"
)

// spfMerge is the result of merging sendready's SPF record into one the
// zone has: the merged record and why it reads so, or why it cannot be
// merged.
type spfMerge struct {
	merged   records.SPF
	why      string
	conflict string
}

// passQualifier reports whether q means Pass ("" or "+").
func passQualifier(q records.Qualifier) bool { return q == "" || q == records.Pass }

// sameMechanism reports whether a and b are the same mechanism, whatever
// their qualifiers.
func sameMechanism(a, b records.SPFTerm) bool {
	a.Qualifier, b.Qualifier = "", ""
	return a.Mechanism != "" && a == b
}

// mergeSPF adds the mechanisms of ours that have lacks to have, before its
// all (or after its last mechanism when it has none), and keeps everything
// else of have: its mechanisms, its all qualifier (a -all is never made
// ~all), its modifiers. A record that has no all gets none: with a
// redirect= an all would end the evaluation before the redirect is
// followed, and without one the record's neutral default for other hosts
// is its owner's choice. It refuses (conflict) a record ending in +all
// (unless force: then the +all becomes ours), a mechanism of ours that the
// record already gives a non-pass result, and a merged record with more
// than MaxSPFLookups lookup terms of its own.
func mergeSPF(have, ours records.SPF, force bool) spfMerge {
	var ourAll *records.SPFTerm
	var add []records.SPFTerm
	allIdx, lastMech := -1, -1
	for i, t := range have.Terms {
		if t.Mechanism == records.MechAll && allIdx < 0 {
			allIdx = i
		}
		if t.Mechanism != "" {
			lastMech = i
		}
	}
	live := have.Terms // the terms evaluated: those up to the first all
	if allIdx >= 0 {
		live = have.Terms[:allIdx]
	}
	for _, t := range ours.Terms {
		if t.Mechanism == records.MechAll {
			t := t
			ourAll = &t
			continue
		}
		if t.Mechanism == "" {
			continue // sendready's records have no modifiers to carry over
		}
		found := false
		for _, h := range live {
			if !sameMechanism(h, t) {
				continue
			}
			if !passQualifier(h.Qualifier) {
				return spfMerge{conflict: fmt.Sprintf("the SPF record has %s, which gives the hosts sendready sends from a %s result before %s can pass them; change it to %s (or remove it) by hand",
					h, qualifierName(h.Qualifier), t, t)}
			}
			found = true
			break
		}
		if !found && !containsTerm(add, t) {
			add = append(add, t)
		}
	}

	terms := append([]records.SPFTerm(nil), have.Terms...)
	var notes []string
	passAll := allIdx >= 0 && passQualifier(have.Terms[allIdx].Qualifier)
	if passAll {
		if !force {
			return spfMerge{conflict: "the SPF record ends in +all, which lets every host on the Internet send as the domain; sendready will not add to it: replace the +all with ~all or -all, or let --force do that (with ~all) while merging"}
		}
		all := records.AllTerm(records.SoftFail)
		if ourAll != nil {
			all = *ourAll
		}
		terms[allIdx] = all
		notes = append(notes, fmt.Sprintf("its +all becomes %s (--force)", all))
	}
	pos := lastMech + 1
	if allIdx >= 0 {
		pos = allIdx
	}
	merged := records.SPF{Terms: append(append(append([]records.SPFTerm(nil), terms[:pos]...), add...), terms[pos:]...)}
	if _, err := records.NewSPF(merged.Terms...); err != nil {
		return spfMerge{conflict: fmt.Sprintf("the merged SPF record would not parse (%v); merge it by hand", err)}
	}

	n := merged.LookupTerms()
	includes := len(merged.Includes())
	if merged.Redirect() != "" {
		includes++
	}
	if n > records.MaxSPFLookups {
		return spfMerge{conflict: fmt.Sprintf("merged, the SPF record would have %d terms that cost a DNS lookup (include, a, mx, ptr, exists, redirect), more than the %d receivers allow before giving a permanent error (RFC 7208 §4.6.4), and each include:/redirect= target's own lookups count on top. Options: flatten — replace a, mx and includes you control with the ip4:/ip6: ranges they stand for; drop includes of services that no longer send for the domain; or move bulk senders (newsletters, ticketing) to a subdomain such as news.<domain> with its own SPF record",
			n, records.MaxSPFLookups)}
	}

	var addStr []string
	for _, t := range add {
		addStr = append(addStr, t.String())
	}
	var why string
	switch {
	case len(add) == 0:
		why = "keeps the record's senders"
	case allIdx >= 0:
		why = fmt.Sprintf("merged: adds %s before %s", strings.Join(addStr, " "), have.Terms[allIdx])
	case have.Redirect() != "":
		why = fmt.Sprintf("merged: adds %s before redirect=%s; no all is added: it would end the evaluation before the redirect is followed", strings.Join(addStr, " "), have.Redirect())
	default:
		why = fmt.Sprintf("merged: adds %s; the record has no all (other hosts get neutral), which is left as it is", strings.Join(addStr, " "))
	}
	if allIdx >= 0 && !passAll {
		why += fmt.Sprintf("; keeps the existing mechanisms and its %s", have.Terms[allIdx])
		if ourAll != nil && ourAll.Qualifier != have.Terms[allIdx].Qualifier {
			why += fmt.Sprintf(" (sendready's own record would end in %s)", *ourAll)
		}
	} else if len(add) > 0 {
		why += "; keeps the existing mechanisms"
	}
	for _, nt := range notes {
		why += "; " + nt
	}
	if includes > 0 {
		why += fmt.Sprintf(". Its own terms cost %d of the %d DNS lookups allowed; the records its include:/redirect= name cost more on top (sendready check counts them all)", n, records.MaxSPFLookups)
	}
	return spfMerge{merged: merged, why: why}
}

func containsTerm(ts []records.SPFTerm, t records.SPFTerm) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func qualifierName(q records.Qualifier) string {
	switch q {
	case records.Fail:
		return "fail"
	case records.SoftFail:
		return "softfail"
	case records.Neutral:
		return "neutral"
	}
	return "pass"
}
