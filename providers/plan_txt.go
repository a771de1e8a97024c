package providers

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/sendready/sendready/records"
)

// txtKind is what a TXT value is, as far as the planner cares.
type txtKind int

const (
	txtOther txtKind = iota
	txtSPF
	txtDMARC
	txtDKIM
)

// kindOf classifies a TXT value at name. Every TXT record at a DKIM
// selector name (<selector>._domainkey.) counts as a DKIM record: the
// name is sendready's.
func kindOf(name, value string) txtKind {
	if _, err := records.ParseSPF(value); !errors.Is(err, records.ErrNotSPF) {
		return txtSPF
	}
	if _, _, err := records.ParseDMARC(value); !errors.Is(err, records.ErrNotDMARC) {
		return txtDMARC
	}
	if strings.Contains(canonName(name), "._domainkey.") {
		return txtDKIM
	}
	return txtOther
}

// txt plans the TXT records at one name: SPF merged, DMARC never weakened,
// DKIM replaced, other TXT records (site verifications, MS=) untouched.
func (pl *planner) txt(name string, want []records.Record, have []*Existing) error {
	used := make([]bool, len(have))
	haveOf := func(k txtKind) []int {
		var out []int
		for i, h := range have {
			if !used[i] && kindOf(name, h.Value) == k {
				out = append(out, i)
			}
		}
		return out
	}
	for _, w := range want {
		var err error
		switch kindOf(name, w.Value) {
		case txtSPF:
			err = pl.spf(name, w, have, haveOf(txtSPF), used)
		case txtDMARC:
			err = pl.dmarc(name, w, have, haveOf(txtDMARC), used)
		case txtDKIM:
			err = pl.dkim(name, w, have, haveOf(txtDKIM), used)
		default:
			i := findHave(have, used, func(h *Existing) bool { return h.Value == w.Value })
			if i < 0 {
				pl.add(Create, nil, w, "not in the zone yet")
			} else {
				used[i] = true
				pl.keep(have[i], ttlNote(have[i], w))
			}
		}
		if err != nil {
			return err
		}
	}
	for i, h := range have {
		if !used[i] {
			pl.keep(h, "not a record sendready publishes: never touched")
		}
	}
	return nil
}

// spf plans the SPF record at name: created when there is none, merged
// into the one there is, a conflict when there are several.
func (pl *planner) spf(name string, w records.Record, have []*Existing, idx []int, used []bool) error {
	ours, err := records.ParseSPF(w.Value)
	if err != nil {
		return fmt.Errorf("providers: the bundle's SPF record of %s: %w", name, err)
	}
	for _, i := range idx {
		used[i] = true
	}
	switch len(idx) {
	case 0:
		pl.add(Create, nil, w, "no SPF record yet")
		return nil
	case 1:
	default:
		var vals []string
		for _, i := range idx {
			vals = append(vals, fmt.Sprintf("%q", have[i].Value))
		}
		pl.add(Conflict, have[idx[0]], w, fmt.Sprintf("%s has %d SPF records (%s): receivers treat that as a permanent error and SPF fails for all mail (RFC 7208 §3.2). Merge them into one record by hand and run the plan again; sendready then adds its senders to it (--force does not do this: only you know which senders and which all qualifier are right)",
			name, len(idx), strings.Join(vals, ", ")))
		for _, i := range idx[1:] {
			pl.add(Conflict, have[i], w, "second SPF record: see the conflict above")
		}
		return nil
	}
	h := have[idx[0]]
	if h.Value == w.Value {
		pl.keep(h, ttlNote(h, w))
		return nil
	}
	existing, err := records.ParseSPF(h.Value)
	if err != nil {
		why := fmt.Sprintf("the SPF record there does not parse (%v): receivers give a permanent error", err)
		if pl.opts.Force {
			pl.add(Update, h, w, why+"; replaced with sendready's (--force)")
		} else {
			pl.add(Conflict, h, w, why+"; fix it and sendready will merge its senders into it, or replace it with --force")
		}
		return nil
	}
	m := mergeSPF(existing, ours, pl.opts.Force)
	switch {
	case m.conflict != "":
		pl.add(Conflict, h, w, m.conflict)
	case m.merged.String() == existing.String():
		pl.keep(h, "already lists every sender sendready needs")
	default:
		nw := w
		nw.Value = m.merged.String()
		pl.add(Update, h, nw, m.why)
	}
	return nil
}

// dmarc plans the DMARC record at name: never weakened without Force.
func (pl *planner) dmarc(name string, w records.Record, have []*Existing, idx []int, used []bool) error {
	ours, _, err := records.ParseDMARC(w.Value)
	if err != nil {
		return fmt.Errorf("providers: the bundle's DMARC record of %s: %w", name, err)
	}
	for _, i := range idx {
		used[i] = true
	}
	if len(idx) == 0 {
		pl.add(Create, nil, w, "no DMARC record yet")
		return nil
	}
	if len(idx) > 1 {
		why := fmt.Sprintf("%s has %d DMARC records: receivers then apply none of them (RFC 7489 §6.6.3)", name, len(idx))
		if !pl.opts.Force {
			pl.add(Conflict, have[idx[0]], w, why+"; delete all but one by hand, or let --force replace them with sendready's")
			for _, i := range idx[1:] {
				pl.add(Conflict, have[i], w, "second DMARC record: see the conflict above")
			}
			return nil
		}
		pl.add(Update, have[idx[0]], w, why+"; replaced with sendready's (--force)")
		for _, i := range idx[1:] {
			pl.add(Delete, have[i], records.Record{}, why+"; deleted (--force)")
		}
		return nil
	}
	h := have[idx[0]]
	existing, _, err := records.ParseDMARC(h.Value)
	if err != nil {
		pl.add(Update, h, w, fmt.Sprintf("the DMARC record there does not parse (%v), so receivers ignore it; replaced", err))
		return nil
	}
	if existing.String() == ours.String() {
		pl.keep(h, ttlNote(h, w))
		return nil
	}
	weaker, other := compareDMARC(existing, ours)
	switch {
	case len(weaker) > 0 && !pl.opts.Force:
		pl.add(Conflict, h, w, fmt.Sprintf("sendready's record would weaken the published policy (%s); sendready never weakens DMARC on its own: set domains[].dmarc in the answers to at least the published policy and generate again, or pass --force to publish the weaker one",
			strings.Join(weaker, ", ")))
	case len(weaker) > 0:
		pl.add(Update, h, w, fmt.Sprintf("weakens the policy (%s) because of --force", strings.Join(append(weaker, other...), ", ")))
	default:
		pl.add(Update, h, w, "the answers' policy: "+strings.Join(other, ", "))
	}
	return nil
}

// policyRank orders DMARC policies from weakest to strongest.
var policyRank = map[string]int{records.PolicyNone: 0, records.PolicyQuarantine: 1, records.PolicyReject: 2}

// compareDMARC lists how next differs from cur: the ways it is weaker
// (p=, sp=, pct=, strict alignment given up) and the other differences.
func compareDMARC(cur, next records.DMARC) (weaker, other []string) {
	note := func(weak bool, s string) {
		if weak {
			weaker = append(weaker, s)
		} else {
			other = append(other, s)
		}
	}
	if cur.Policy != next.Policy {
		note(policyRank[next.Policy] < policyRank[cur.Policy], "p="+cur.Policy+" → p="+next.Policy)
	}
	sp := func(d records.DMARC) string {
		if d.SubdomainPolicy == "" {
			return d.Policy
		}
		return d.SubdomainPolicy
	}
	if sp(cur) != sp(next) {
		note(policyRank[sp(next)] < policyRank[sp(cur)], "sp="+sp(cur)+" → sp="+sp(next))
	}
	pct := func(d records.DMARC) int {
		if d.Pct == nil {
			return 100
		}
		return *d.Pct
	}
	if pct(cur) != pct(next) {
		note(pct(next) < pct(cur), fmt.Sprintf("pct=%d → pct=%d", pct(cur), pct(next)))
	}
	align := func(v string) string {
		if v == records.AlignStrict {
			return "s"
		}
		return "r"
	}
	if align(cur.ADKIM) != align(next.ADKIM) {
		note(cur.ADKIM == records.AlignStrict, "adkim="+align(cur.ADKIM)+" → adkim="+align(next.ADKIM))
	}
	if align(cur.ASPF) != align(next.ASPF) {
		note(cur.ASPF == records.AlignStrict, "aspf="+align(cur.ASPF)+" → aspf="+align(next.ASPF))
	}
	list := func(name string, a, b []string) {
		if strings.Join(a, ",") != strings.Join(b, ",") {
			note(false, fmt.Sprintf("%s=%s → %s=%s", name, orNone(strings.Join(a, ",")), name, orNone(strings.Join(b, ","))))
		}
	}
	list("rua", cur.RUA, next.RUA)
	list("ruf", cur.RUF, next.RUF)
	if len(weaker) == 0 && len(other) == 0 {
		other = append(other, "other tags change")
	}
	return weaker, other
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// dkim plans the key record at sendready's selector: the name comes from
// the answers, so the record is sendready's and another key is replaced.
func (pl *planner) dkim(name string, w records.Record, have []*Existing, idx []int, used []bool) error {
	ours, err := records.ParseDKIM(w.Value)
	if err != nil {
		return fmt.Errorf("providers: the bundle's DKIM record of %s: %w", name, err)
	}
	for _, i := range idx {
		used[i] = true
	}
	same := -1
	for n, i := range idx {
		if d, err := records.ParseDKIM(have[i].Value); err == nil && d.String() == ours.String() {
			same = n
			break
		}
	}
	if len(idx) == 0 {
		pl.add(Create, nil, w, "no key published at the selector yet")
		return nil
	}
	extra := "a second key record at the selector makes DKIM verification unpredictable; the selector is sendready's (from the answers): deleted"
	if same >= 0 {
		pl.keep(have[idx[same]], ttlNote(have[idx[same]], w))
		for n, i := range idx {
			if n != same {
				pl.add(Delete, have[i], records.Record{}, extra)
			}
		}
		return nil
	}
	h := have[idx[0]]
	why := "the selector is sendready's (from the answers), so its record is replaced"
	if d, err := records.ParseDKIM(h.Value); err == nil && !d.Revoked() && !bytes.Equal(d.Key, ours.Key) {
		why = "another key is published at the selector, which is sendready's (from the answers): replaced with the bundle's key"
	}
	why += fmt.Sprintf(". Mail signed with the old key fails DKIM until resolvers' caches expire (up to the old record's TTL, %d s): publish before OpenDKIM signs with the new key, or wait that long", h.TTL)
	pl.add(Update, h, w, why)
	for _, i := range idx[1:] {
		pl.add(Delete, have[i], records.Record{}, extra)
	}
	return nil
}
