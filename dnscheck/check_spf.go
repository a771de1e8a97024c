package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// MaxSPFVoidLookups is the limit of lookups without an answer (NXDOMAIN
// or NODATA) an SPF evaluation may make (RFC 7208 §4.6.4).
const MaxSPFVoidLookups = 2

// spfRecords returns the values that are SPF records (start with v=spf1).
func spfRecords(vals []string) []string {
	var out []string
	for _, v := range vals {
		if _, err := records.ParseSPF(v); !errors.Is(err, records.ErrNotSPF) {
			out = append(out, v)
		}
	}
	return out
}

// checkSPF checks the domain's SPF record as published, then its
// propagation.
func (ev *evaluation) checkSPF() Result {
	ips := ev.expectedIPs()
	expected := "one valid v=spf1 record"
	if len(ips) > 0 {
		expected += " passing " + strings.Join(ips, ", ")
	}
	if len(ev.exp.SPFIncludes) > 0 {
		expected += " with include:" + strings.Join(ev.exp.SPFIncludes, " include:")
	}
	onlySPF := func(r Response) answer {
		a := readAnswer(r)
		a.values = spfRecords(a.values)
		return a
	}
	o := ev.propagate(ev.snapshots([]Query{{ev.domain, dns.TypeTXT}}, onlySPF), look{
		key:   CheckSPF + "|" + ev.domain,
		what:  "the SPF record of " + bare(ev.domain),
		judge: ev.judgeSPF,
		line:  txtLines(ev.domain),
	})
	return o.result(CheckSPF, ev.domain, "TXT", expected)
}

// judgeSPF checks one published set of SPF records.
func (ev *evaluation) judgeSPF(vals []string) verdict {
	d := bare(ev.domain)
	fail := func(detail string, base []records.SPF) verdict {
		return verdict{StatusFail, detail, ev.spfFix(base)}
	}
	switch len(vals) {
	case 0:
		return fail(fmt.Sprintf("%s has no SPF record", d), nil)
	case 1:
	default:
		var recs []records.SPF
		for _, v := range vals {
			if r, err := records.ParseSPF(v); err == nil {
				recs = append(recs, r)
			}
		}
		return fail(fmt.Sprintf("%s has %d SPF records: receivers give permerror; merge them into one", d, len(vals)), recs)
	}
	rec, err := records.ParseSPF(vals[0])
	if err != nil {
		return fail(fmt.Sprintf("SPF record does not parse (permerror): %v", err), nil)
	}
	if rec.HasPassAll() {
		return fail("SPF record ends in +all: every host on the Internet may send as "+d, []records.SPF{rec})
	}
	w := &spfWalk{ev: ev}
	w.walk(d, vals, nil)
	if w.err != "" {
		return fail(w.err, []records.SPF{rec})
	}
	if w.lookups > records.MaxSPFLookups {
		return verdict{StatusFail, fmt.Sprintf("SPF needs %d DNS lookups, includes followed (limit %d: receivers give permerror)", w.lookups, records.MaxSPFLookups),
			"cut DNS-querying terms (include, a, mx, ptr, exists, redirect): replace a/mx and includes you control by ip4:/ip6: terms; the record now is: " + zoneLines(records.Record{Name: ev.domain, Type: records.TypeTXT, Value: rec.String()})}
	}
	if w.voids > MaxSPFVoidLookups {
		return fail(fmt.Sprintf("SPF makes %d void lookups (names without records; limit %d)", w.voids, MaxSPFVoidLookups), []records.SPF{rec})
	}
	var missing []string
	for _, inc := range ev.exp.SPFIncludes {
		if !slices.ContainsFunc(rec.Includes(), func(s string) bool { return sameName(s, inc) }) {
			missing = append(missing, "include:"+bare(inc))
		}
	}
	if len(missing) > 0 {
		return fail("SPF record lacks "+strings.Join(missing, " "), []records.SPF{rec})
	}
	var notPass []string
	for _, ip := range ev.exp.IPs {
		res, err := spf.CheckHostWithSender(net.IP(ip.Unmap().AsSlice()), d, "postmaster@"+d,
			spf.WithContext(ev.ctx), spf.WithResolver(&spfResolver{ev: ev, published: vals}))
		if res != spf.Pass {
			why := string(res)
			if err != nil && res != spf.Fail && res != spf.SoftFail && res != spf.Neutral {
				why += " (" + err.Error() + ")"
			}
			notPass = append(notPass, ip.Unmap().String()+" gets "+why)
		}
	}
	if len(notPass) > 0 {
		return fail("SPF does not pass the sending IPs: "+strings.Join(notPass, ", "), []records.SPF{rec})
	}
	detail := fmt.Sprintf("%s (%d DNS lookups)", rec, w.lookups)
	if slices.ContainsFunc(rec.Terms, func(t records.SPFTerm) bool { return t.Mechanism == records.MechPTR }) {
		return verdict{StatusWarn, "SPF uses the ptr mechanism, which RFC 7208 §5.5 says not to use: " + detail, ev.spfFix([]records.SPF{rec})}
	}
	return verdict{StatusPass, detail, ""}
}

// spfFix builds the record to publish: the terms of base (merged when
// several) with +all made ~all, the sending IPs and expected includes
// added, ending in an all term.
func (ev *evaluation) spfFix(base []records.SPF) string {
	var terms, mods []records.SPFTerm
	all := records.AllTerm(records.SoftFail)
	hasRedirect := false
	addTerm := func(t records.SPFTerm) {
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	for _, r := range base {
		for _, t := range r.Terms {
			switch {
			case t.Mechanism == records.MechAll:
				if t.Qualifier == records.Fail {
					all = t
				}
			case t.Mechanism == "":
				if t.Modifier == records.ModRedirect {
					hasRedirect = true
				}
				if !slices.ContainsFunc(mods, func(m records.SPFTerm) bool { return m.Modifier == t.Modifier }) {
					mods = append(mods, t)
				}
			default:
				addTerm(t)
			}
		}
	}
	for _, ip := range ev.exp.IPs {
		covered := slices.ContainsFunc(terms, func(t records.SPFTerm) bool {
			return (t.Mechanism == records.MechIP4 || t.Mechanism == records.MechIP6) && t.Net.Contains(ip.Unmap()) && t.Qualifier != records.Fail && t.Qualifier != records.SoftFail && t.Qualifier != records.Neutral
		})
		if !covered {
			addTerm(records.IPTerm(ip))
		}
	}
	for _, inc := range ev.exp.SPFIncludes {
		addTerm(records.IncludeTerm(bare(inc)))
	}
	if !hasRedirect {
		terms = append(terms, all)
	}
	terms = append(terms, mods...)
	rec, err := records.NewSPF(terms...)
	if err != nil {
		return "publish one SPF record listing your sending IPs, e.g. " + zoneLines(records.Record{Name: ev.domain, Type: records.TypeTXT, Value: records.SPF{Terms: append(ipTerms(ev.exp.IPs), all)}.String()})
	}
	return zoneLines(records.Record{Name: ev.domain, Type: records.TypeTXT, Value: rec.String()})
}

func ipTerms(ips []netip.Addr) []records.SPFTerm {
	var out []records.SPFTerm
	for _, ip := range ips {
		out = append(out, records.IPTerm(ip))
	}
	return out
}

// spfWalk counts DNS lookups and void lookups over the whole include and
// redirect tree (every branch, as a receiver may need any of them), and
// finds loops and broken includes.
type spfWalk struct {
	ev      *evaluation
	lookups int
	voids   int
	visited int
	err     string
}

// spfWalkLimit stops a walk that has clearly gone past every limit.
const spfWalkLimit = 40

func (w *spfWalk) walk(domain string, vals []string, chain []string) {
	if w.err != "" || w.visited > spfWalkLimit {
		return
	}
	w.visited++
	chain = append(chain, bare(domain))
	if vals == nil {
		r := w.ev.lookup(domain, dns.TypeTXT)
		if why := failed(r); why != "" {
			w.err = fmt.Sprintf("SPF of %s could not be fetched (%s): receivers give temperror", strings.Join(chain, " → "), why)
			return
		}
		vals = spfRecords(readAnswer(r).values)
		if len(vals) == 0 {
			w.voids++
			w.err = fmt.Sprintf("%s has no SPF record (via %s): receivers give permerror", bare(domain), strings.Join(chain, " → "))
			return
		}
	}
	if len(vals) > 1 {
		w.err = fmt.Sprintf("%s has %d SPF records (via %s): permerror", bare(domain), len(vals), strings.Join(chain, " → "))
		return
	}
	rec, err := records.ParseSPF(vals[0])
	if err != nil {
		w.err = fmt.Sprintf("SPF of %s does not parse (via %s): %v", bare(domain), strings.Join(chain, " → "), err)
		return
	}
	w.lookups += rec.LookupTerms()
	for _, t := range rec.Terms {
		if w.lookups > records.MaxSPFLookups+10 {
			return
		}
		target := ""
		switch {
		case t.Mechanism == records.MechInclude:
			target = t.Domain
		case t.Mechanism == "" && t.Modifier == records.ModRedirect:
			target = t.Value
		case (t.Mechanism == records.MechA || t.Mechanism == records.MechMX) && !strings.Contains(t.Domain, "%"):
			name := t.Domain
			if name == "" {
				name = domain
			}
			qt := dns.TypeMX
			if t.Mechanism == records.MechA {
				qt = dns.TypeA
			}
			if r := w.ev.lookup(name, qt); usable(r) && len(readAnswer(r).values) == 0 {
				if qt == dns.TypeA {
					if r6 := w.ev.lookup(name, dns.TypeAAAA); usable(r6) && len(readAnswer(r6).values) > 0 {
						continue
					}
				}
				w.voids++
			}
			continue
		default:
			continue
		}
		if strings.Contains(target, "%") {
			continue // a macro: depends on the sender; not followed
		}
		if slices.ContainsFunc(chain, func(c string) bool { return sameName(c, target) }) {
			w.err = fmt.Sprintf("SPF include loop: %s → %s", strings.Join(chain, " → "), bare(target))
			return
		}
		w.walk(target, nil, chain)
	}
}

// spfResolver adapts the evaluation's lookups to blitiri.com.ar/go/spf:
// the domain's own TXT is the published (authoritative) value being
// judged; everything else goes through the follow-up resolver.
type spfResolver struct {
	ev        *evaluation
	published []string
}

func (s *spfResolver) get(name string, qtype uint16) ([]string, error) {
	a, err := s.answer(name, qtype, 0)
	return a.values, err
}

func (s *spfResolver) answer(name string, qtype uint16, depth int) (answer, error) {
	r := s.ev.lookup(name, qtype)
	if why := failed(r); why != "" {
		return answer{}, &net.DNSError{Err: why, Name: name, IsTemporary: true, IsTimeout: r.Err != nil}
	}
	a := readAnswer(r)
	if a.target != "" && depth < 8 {
		return s.answer(a.target, qtype, depth+1)
	}
	if r.Rcode == dns.RcodeNameError {
		return answer{}, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return a, nil
}

func (s *spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if sameName(name, s.ev.domain) {
		return s.published, nil
	}
	return s.get(name, dns.TypeTXT)
}

func (s *spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	a, err := s.answer(name, dns.TypeMX, 0)
	if err != nil {
		return nil, err
	}
	var out []*net.MX
	for _, r := range a.recs {
		out = append(out, &net.MX{Host: r.Value, Pref: r.Priority})
	}
	return out, nil
}

func (s *spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	var errs []error
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		vals, err := s.get(host, qt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, v := range vals {
			if ip, err := netip.ParseAddr(v); err == nil {
				out = append(out, net.IPAddr{IP: net.IP(ip.AsSlice())})
			}
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		for _, err := range errs {
			var de *net.DNSError
			if errors.As(err, &de) && de.IsTemporary {
				return nil, err
			}
		}
		if len(errs) == 2 {
			return nil, errs[0]
		}
	}
	return out, nil
}

func (s *spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "bad address", Name: addr, IsNotFound: true}
	}
	return s.get(records.ReverseName(ip), dns.TypePTR)
}
