package dnscheck

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// zoneApex is the apex of the domain's zone as the SOA query of the round
// shows it: the SOA's owner, in the answer at the apex or in the
// authority section below it. "" when no server said.
func (ev *evaluation) zoneApex() string {
	for _, r := range ev.rs.Get(Query{ev.domain, dns.TypeSOA}) {
		if failed(r) != "" {
			continue
		}
		for _, rr := range append(slicesClone(r.Answer), r.Ns...) {
			if s, ok := rr.(*dns.SOA); ok && isSubdomainOf(ev.domain, s.Hdr.Name) {
				return fqdn(s.Hdr.Name)
			}
		}
	}
	return ""
}

func slicesClone(rrs []dns.RR) []dns.RR { return append([]dns.RR(nil), rrs...) }

// orgDomain is the organizational domain (RFC 7489 §3.2) without a
// public-suffix list: the zone apex when it lies above the domain (the
// SOA the round saw), else the last two labels. The apex is right for
// names under multi-label suffixes (mail.example.co.uk in zone
// example.co.uk) and the two labels for a delegated subdomain
// (sub.example.com with its own zone); a subdomain delegated under a
// multi-label suffix is the case this gets wrong.
func (ev *evaluation) orgDomain() string {
	if apex := ev.zoneApex(); apex != "" && apex != ev.domain && isSubdomainOf(ev.domain, apex) {
		return apex
	}
	return lastTwoLabels(ev.domain)
}

// dmarcRecords returns the values that are DMARC records (start with
// v=DMARC1; RFC 7489 §6.6.3 discards the rest).
func dmarcRecords(vals []string) []string {
	var out []string
	for _, v := range vals {
		if _, _, err := records.ParseDMARC(v); !errors.Is(err, records.ErrNotDMARC) {
			out = append(out, v)
		}
	}
	return out
}

// checkDMARC checks the DMARC record at _dmarc.<domain>, or, when a
// subdomain has none, the organizational domain's.
func (ev *evaluation) checkDMARC() Result {
	name := fqdn("_dmarc." + bare(ev.domain))
	defaultRec := records.DMARC{Policy: records.PolicyNone, RUA: []string{"mailto:postmaster@" + bare(ev.domain)}}
	defaultFix := zoneLines(records.Record{Name: name, Type: records.TypeTXT, Value: defaultRec.String()})
	judge := func(owner string) func([]string) verdict {
		return func(vals []string) verdict { return ev.judgeDMARC(owner, vals, defaultFix) }
	}
	snaps := ev.snapshots([]Query{{name, dns.TypeTXT}}, nil)
	o := ev.propagate(snaps, look{
		key: CheckDMARC + "|" + ev.domain, what: "the DMARC record " + bare(name),
		judge: judge(ev.domain), line: txtLines(name),
	})
	org := ev.orgDomain()
	if o.agreed && len(dmarcRecords(o.authVals)) == 0 && len(o.authVals) == 0 && org != ev.domain {
		// No record here: the organizational domain's applies.
		orgName := fqdn("_dmarc." + bare(org))
		q := Query{orgName, dns.TypeTXT}
		var orgSnaps []snapshot
		if len(ev.rs.Get(q)) > 0 {
			orgSnaps = ev.snapshots([]Query{q}, nil)
		} else {
			r := ev.lookup(orgName, dns.TypeTXT)
			a := readAnswer(r)
			s := snapshot{server: r.Server, cond: r.Condition(), values: a.values, ttl: a.ttl}
			s.err = failed(r)
			// A follow-up comes from a resolver; judge it as published.
			s.server.Kind = Authoritative
			orgSnaps = []snapshot{s}
		}
		oo := ev.propagate(orgSnaps, look{
			key: CheckDMARC + "|" + ev.domain + "|org", what: "the DMARC record " + bare(orgName),
			judge: judge(org), line: txtLines(orgName),
		})
		if oo.agreed && len(dmarcRecords(oo.authVals)) == 1 {
			oo.detail = fmt.Sprintf("no record at %s; the organizational domain's applies (RFC 7489 §6.6.3): %s", bare(name), oo.detail)
			if oo.fix == "" {
				oo.fix = "optional: publish a record of its own: " + defaultFix
			}
			return oo.result(CheckDMARC, orgName, "TXT", "one v=DMARC1 record with a valid p=")
		}
	}
	return o.result(CheckDMARC, name, "TXT", "one v=DMARC1 record with a valid p=")
}

// judgeDMARC checks the TXT values at _dmarc.<owner>.
func (ev *evaluation) judgeDMARC(owner string, vals []string, defaultFix string) verdict {
	recs := dmarcRecords(vals)
	at := "_dmarc." + bare(owner)
	switch {
	case len(recs) == 0 && len(vals) > 0:
		return verdict{StatusFail, fmt.Sprintf("the TXT record at %s does not start with v=DMARC1, so it is no DMARC record: %q", at, vals[0]), defaultFix}
	case len(recs) == 0:
		return verdict{StatusFail, "no DMARC record at " + at, defaultFix}
	case len(recs) > 1:
		return verdict{StatusFail, fmt.Sprintf("%d DMARC records at %s: receivers apply none (RFC 7489 §6.6.3)", len(recs), at), defaultFix}
	}
	d, warns, err := records.ParseDMARC(recs[0])
	if err != nil {
		return verdict{StatusFail, fmt.Sprintf("DMARC record invalid: %v", err), defaultFix}
	}
	name := fqdn(at)
	fixRec := func(nd records.DMARC) string {
		return zoneLines(records.Record{Name: name, Type: records.TypeTXT, Value: nd.String()})
	}
	fix := ""
	if len(warns) > 0 {
		fix = fixRec(d)
	}
	for _, uri := range append(append([]string(nil), d.RUA...), d.RUF...) {
		addr := records.MailtoAddress(uri)
		_, host, ok := strings.Cut(addr, "@")
		if !ok || ev.sameOrg(host) {
			continue
		}
		auth := fqdn(bare(ev.domain) + "._report._dmarc." + host)
		r := ev.lookup(auth, dns.TypeTXT)
		if why := failed(r); why != "" {
			warns = append(warns, fmt.Sprintf("could not verify that %s accepts reports for %s (%s)", host, bare(ev.domain), why))
			continue
		}
		if len(dmarcRecords(readAnswer(r).values)) == 0 {
			warns = append(warns, fmt.Sprintf("%s does not accept reports for %s: %s has no v=DMARC1 record (RFC 7489 §7.1)", host, bare(ev.domain), bare(auth)))
			fix = "ask the owner of " + host + " to publish: " + zoneLines(records.Record{Name: auth, Type: records.TypeTXT, Value: "v=DMARC1"})
		}
	}
	if d.Policy == records.PolicyNone {
		warns = append(warns, "p=none only monitors: once the reports show your mail passes, go to p=quarantine, then p=reject")
		nd := d
		nd.Policy = records.PolicyQuarantine
		fix = fixRec(nd)
	}
	if len(warns) > 0 {
		return verdict{StatusWarn, strings.Join(warns, "; "), fix}
	}
	return verdict{StatusPass, d.String(), ""}
}

// sameOrg reports whether host belongs to the domain's organizational
// domain (then no report authorisation is needed).
func (ev *evaluation) sameOrg(host string) bool {
	org := ev.orgDomain()
	return isSubdomainOf(host, org) || lastTwoLabels(host) == lastTwoLabels(ev.domain)
}
