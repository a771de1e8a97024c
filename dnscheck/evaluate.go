package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// ErrNoResolver means an evaluation needed a follow-up lookup but was
// given no Resolver.
var ErrNoResolver = errors.New("dnscheck: no resolver for follow-up lookups")

// fixTTL is the TTL written into the zone lines of fix instructions.
const fixTTL = 3600

// Evaluate turns one round's responses into the results of exp's domain,
// in the order a, ptr (per IP), mx, spf, dkim (per selector), dmarc, ns,
// dnsbl. It does no I/O but the follow-up lookups through res (SPF
// includes, CNAME targets missing from an answer, report authorisation,
// blocklists); helo needs a live SMTP connection and comes from ProbeHELO
// (Checker.Round runs both). tr remembers first sightings across rounds
// and may be nil.
//
// Content (syntax, lookup counts, keys, IP evaluation) is judged on the
// authoritative servers' data; resolvers are compared with it for
// propagation. A server that did not answer never counts as agreeing: an
// authoritative server without an answer fails the check, and so does a
// resolver without one (it has no TTL that would make a wait end, and a
// receiver behind it cannot verify mail now).
func Evaluate(ctx context.Context, exp Expect, rs *Responses, res Resolver, tr *Tracker, now time.Time) []Result {
	ev := &evaluation{ctx: ctx, exp: exp, domain: fqdn(exp.Domain), rs: rs, res: res, tr: tr, now: now, cache: map[Query]Response{}}
	var out []Result
	out = append(out, ev.checkA())
	out = append(out, ev.checkPTR()...)
	out = append(out, ev.checkMX())
	out = append(out, ev.checkSPF())
	out = append(out, ev.checkDKIM()...)
	out = append(out, ev.checkDMARC())
	out = append(out, ev.checkNS())
	out = append(out, ev.checkDNSBL())
	for i := range out {
		out[i].Domain = bare(exp.Domain)
		if out[i].Observations == nil {
			out[i].Observations = []Observation{}
		}
	}
	return out
}

// evaluation is the state of one domain's Evaluate.
type evaluation struct {
	ctx    context.Context
	exp    Expect
	domain string // FQDN, lower case
	rs     *Responses
	res    Resolver
	tr     *Tracker
	now    time.Time

	mu    sync.Mutex
	cache map[Query]Response // follow-up lookups
}

// lookup answers a follow-up question: from a resolver's response in the
// round when there is a usable one, else through res, cached.
func (ev *evaluation) lookup(name string, qtype uint16) Response {
	q := Query{Name: fqdn(name), Type: qtype}
	ev.mu.Lock()
	r, ok := ev.cache[q]
	ev.mu.Unlock()
	if ok {
		return r
	}
	for _, r := range ev.rs.Get(q) {
		if r.Server.Kind == Recursive && usable(r) {
			ev.store(q, r)
			return r
		}
	}
	if ev.res == nil {
		r = Response{Query: q, Err: fmt.Errorf("%w: %s %s", ErrNoResolver, q.Name, dns.TypeToString[qtype])}
	} else {
		r = ev.res.Lookup(ev.ctx, q.Name, qtype)
		r.Query = q
	}
	ev.store(q, r)
	return r
}

func (ev *evaluation) store(q Query, r Response) {
	ev.mu.Lock()
	ev.cache[q] = r
	ev.mu.Unlock()
}

// usable reports whether r is an answer or a negative (NXDOMAIN, NODATA),
// as opposed to a failure.
func usable(r Response) bool {
	return r.Err == nil && (r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError)
}

// failed reports why a response gives no usable data ("timeout",
// "servfail", "lame: ...", an error), or "" for an answer or a negative.
func failed(r Response) string {
	switch c := r.Condition(); c {
	case CondAnswer, CondNXDomain, CondNoData:
		return ""
	case CondLame:
		return "lame: answered without authority"
	case CondTimeout, CondError:
		if r.Err != nil {
			return r.Err.Error()
		}
		return c
	default:
		return c
	}
}

// answer is what one response says about its question, CNAMEs followed
// within the answer section.
type answer struct {
	values []string // records of the query type at the end of the chain
	recs   []records.Record
	via    []string // CNAME targets followed, in order
	ttl    uint32   // smallest TTL of values and the chain
	// target is set when the chain ends in a CNAME whose target's records
	// are not in the answer: a follow-up lookup is needed.
	target string
}

// readAnswer extracts the answer to r's question with records.FromRR.
func readAnswer(r Response) answer {
	var a answer
	name := r.Query.Name
	first := true
	note := func(t uint32) {
		if first || t < a.ttl {
			a.ttl = t
		}
		first = false
	}
	for range 10 {
		var next string
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CNAME); ok && r.Query.Type != dns.TypeCNAME && sameName(c.Hdr.Name, name) {
				next = records.FromRR(rr).Value
				note(c.Hdr.Ttl)
				break
			}
		}
		if next == "" {
			break
		}
		a.via = append(a.via, fqdn(next))
		name = next
	}
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype != r.Query.Type || !sameName(h.Name, name) {
			continue
		}
		rec := records.FromRR(rr)
		v := rec.Value
		if h.Rrtype == dns.TypeMX {
			v = fmt.Sprintf("%d %s", rec.Priority, strings.ToLower(rec.Value))
		}
		a.values = append(a.values, v)
		a.recs = append(a.recs, rec)
		note(h.Ttl)
	}
	if len(a.values) == 0 {
		if len(a.via) > 0 {
			a.target = a.via[len(a.via)-1]
		}
		a.ttl = r.TTL()
	} else if len(a.via) == 0 {
		a.ttl = r.TTL()
	}
	return a
}

// soaMinimum is the MINIMUM field of the SOA in r's authority section: the
// negative-caching TTL the zone asks for (RFC 2308), 0 without one.
func soaMinimum(r Response) uint32 {
	for _, rr := range r.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			return s.Minttl
		}
	}
	return 0
}

// snapshot is one server's view of the records a check looks at, over
// one or more queries (A and AAAA together).
type snapshot struct {
	server Server
	err    string // set when some query had no usable answer
	cond   string
	values []string
	via    []string
	ttl    uint32
	soaMin uint32
}

func (s snapshot) negative() bool { return s.err == "" && len(s.values) == 0 }

// extractor reads one response; the default is readAnswer.
type extractor func(Response) answer

// snapshots gathers every server's responses to qs, authoritative servers
// first, each in the order the round lists them.
func (ev *evaluation) snapshots(qs []Query, extract extractor) []snapshot {
	if extract == nil {
		extract = readAnswer
	}
	type key struct {
		kind Kind
		addr string
	}
	var order []key
	byServer := map[key]*snapshot{}
	conds := map[key][]string{}
	for _, q := range qs {
		for _, r := range ev.rs.Get(q) {
			k := key{r.Server.Kind, r.Server.Addr}
			s := byServer[k]
			if s == nil {
				s = &snapshot{server: r.Server}
				byServer[k] = s
				order = append(order, k)
			}
			cond := r.Condition()
			if r.Err != nil && cond == "" {
				cond = "error"
			}
			if !slices.Contains(conds[k], cond) {
				conds[k] = append(conds[k], cond)
			}
			if why := failed(r); why != "" {
				if s.err == "" {
					s.err = why
				}
				continue
			}
			a := extract(r)
			if len(a.values) > 0 {
				if len(s.values) == 0 || a.ttl < s.ttl {
					s.ttl = a.ttl
				}
			} else if len(s.values) == 0 && (s.ttl == 0 || a.ttl < s.ttl) {
				s.ttl = a.ttl
			}
			s.values = append(s.values, a.values...)
			s.via = append(s.via, a.via...)
			if m := soaMinimum(r); m > s.soaMin {
				s.soaMin = m
			}
		}
	}
	var out []snapshot
	for _, kind := range []Kind{Authoritative, Recursive} {
		for _, k := range order {
			if k.kind != kind {
				continue
			}
			s := byServer[k]
			s.cond = strings.Join(conds[k], "/")
			slices.Sort(s.values)
			s.values = slices.Compact(s.values)
			out = append(out, *s)
		}
	}
	return out
}

// serverLabel names a server for people: "ns2.example.net (198.51.100.2)",
// or the address alone; port 53 is left out.
func serverLabel(s Server) string {
	addr := s.Addr
	if host, port, err := net.SplitHostPort(addr); err == nil && port == "53" {
		addr = host
	}
	if s.Name != "" && !sameName(s.Name, addr) {
		return bare(s.Name) + " (" + addr + ")"
	}
	if addr == "" {
		return bare(s.Name)
	}
	return addr
}

// verdict is a content check's judgement of one value set.
type verdict struct {
	status Status
	detail string
	fix    string
}

func (v verdict) ok() bool {
	return v.status == StatusPass || v.status == StatusWarn || v.status == StatusSkipped
}

// look is how propagate compares and judges one check's record.
type look struct {
	key  string // tracker key: check id, domain, selector/ip
	what string // "the DKIM record", for details
	// norm normalises a value for comparison (nil: exact).
	norm func(string) string
	// judge decides whether a value set is right; it runs once per
	// distinct set.
	judge func(values []string) verdict
	// line formats values as zone lines, for the fix of a server that
	// lacks what the others serve.
	line func(values []string) string
}

// outcome is a check's status from its snapshots.
type outcome struct {
	status   Status
	detail   string
	fix      string
	eta      *int
	obs      []Observation
	authVals []string // what every authoritative server serves; nil without agreement
	agreed   bool     // the authoritative servers answered and agree
	verdict  verdict  // the verdict on authVals when agreed
}

type problem struct {
	status Status
	text   string
}

func (l look) setKey(s snapshot) string {
	vals := make([]string, len(s.values))
	for i, v := range s.values {
		if l.norm != nil {
			v = l.norm(v)
		}
		vals[i] = v
	}
	slices.Sort(vals)
	return strings.Join(s.via, ">") + "|" + strings.Join(vals, "\x00")
}

// propagate judges the authoritative servers' data, then compares every
// resolver with it, bounding how long a resolver may serve old data.
func (ev *evaluation) propagate(snaps []snapshot, l look) outcome {
	var o outcome
	memo := map[string]verdict{}
	judge := func(s snapshot) verdict {
		k := l.setKey(s)
		v, ok := memo[k]
		if !ok {
			v = l.judge(s.values)
			memo[k] = v
		}
		return v
	}
	var probs []problem
	add := func(st Status, format string, args ...any) {
		probs = append(probs, problem{st, fmt.Sprintf(format, args...)})
	}
	obsOf := func(s snapshot, st Status) Observation {
		ob := Observation{Server: serverLabel(s.server), Kind: s.server.Kind, Rcode: s.cond, Error: s.err, Values: s.values, TTL: s.ttl, Status: st}
		if ob.Values == nil {
			ob.Values = []string{}
		}
		return ob
	}

	var auth, rec []snapshot
	for _, s := range snaps {
		if s.server.Kind == Authoritative {
			auth = append(auth, s)
		} else {
			rec = append(rec, s)
		}
	}

	// Authoritative servers: what is published.
	var errored, good, bad []string
	groups := map[string][]snapshot{}
	var groupOrder []string
	var okGroup, badGroup *snapshot
	var badVerdict verdict
	for _, s := range auth {
		if s.err != "" {
			errored = append(errored, fmt.Sprintf("%s (%s)", serverLabel(s.server), s.err))
			o.obs = append(o.obs, obsOf(s, StatusError))
			continue
		}
		k := l.setKey(s)
		if _, ok := groups[k]; !ok {
			groupOrder = append(groupOrder, k)
		}
		groups[k] = append(groups[k], s)
		v := judge(s)
		st := StatusPass
		if !v.ok() {
			st = StatusFail
			bad = append(bad, serverLabel(s.server))
			if badGroup == nil {
				s := s
				badGroup, badVerdict = &s, v
			}
		} else {
			good = append(good, serverLabel(s.server))
			if okGroup == nil {
				s := s
				okGroup = &s
			}
		}
		o.obs = append(o.obs, obsOf(s, st))
	}
	switch {
	case len(auth) == 0:
		add(StatusFail, "no authoritative server answered for %s", l.what)
	case len(errored) > 0:
		add(StatusFail, "no answer from %s", strings.Join(errored, ", "))
		if okGroup != nil && len(groups) == 1 {
			// Still judge what the others publish.
			if v := judge(*okGroup); v.status == StatusWarn {
				add(StatusWarn, "%s", v.detail)
			}
		} else if badGroup != nil {
			add(StatusFail, "%s", badVerdict.detail)
			o.fix = badVerdict.fix
		}
		if o.fix == "" {
			o.fix = "make every authoritative server of the zone answer (check it runs, is reachable on UDP and TCP port 53, and serves the zone), or remove it from the NS set"
		}
	case len(groups) == 1:
		s := groups[groupOrder[0]][0]
		v := judge(s)
		o.agreed, o.authVals, o.verdict = true, s.values, v
		if v.status != StatusPass && v.detail != "" {
			add(v.status, "%s", v.detail)
		}
		o.fix = v.fix
	case len(good) > 0 && len(bad) > 0:
		add(StatusFail, "%s at %s (right at %s)", badVerdict.detail, strings.Join(bad, ", "), strings.Join(good, ", "))
		o.fix = fmt.Sprintf("%s serve(s) an older zone: reload it there or check the zone transfer from the primary; it must serve: %s", strings.Join(bad, ", "), l.line(okGroup.values))
	case len(bad) > 0:
		add(StatusFail, "%s (the authoritative servers also disagree: %s)", badVerdict.detail, strings.Join(bad, ", "))
		o.fix = badVerdict.fix
	default:
		var parts []string
		for _, k := range groupOrder {
			var names []string
			for _, s := range groups[k] {
				names = append(names, serverLabel(s.server))
			}
			parts = append(parts, fmt.Sprintf("%s: %s", strings.Join(names, ", "), strings.Join(groups[k][0].values, " | ")))
		}
		add(StatusFail, "the authoritative servers disagree on %s: %s", l.what, strings.Join(parts, "; "))
		o.fix = "make every authoritative server serve the same zone (check zone transfers/NOTIFY from the primary)"
	}

	// Resolvers: propagation.
	right := o.agreed && o.verdict.ok()
	var first time.Time
	if right {
		first = ev.tr.firstSeen(l.key, l.setKey(groups[groupOrder[0]][0]), ev.now)
	} else {
		ev.tr.forget(l.key)
	}
	authTTL := uint32(0)
	if o.agreed {
		for _, s := range groups[groupOrder[0]] {
			authTTL = max(authTTL, s.ttl)
		}
	}
	maxETA := -1
	for _, s := range rec {
		label := serverLabel(s.server)
		switch {
		case s.err != "":
			add(StatusFail, "resolver %s gave no answer (%s)", label, s.err)
			o.obs = append(o.obs, obsOf(s, StatusError))
		case o.agreed && l.setKey(s) == l.setKey(groups[groupOrder[0]][0]):
			st := StatusPass
			if !right {
				st = StatusFail
			}
			o.obs = append(o.obs, obsOf(s, st))
		case right:
			// Old or negative data: it clears when the resolver's copy
			// expires; copies fetched before the authoritative servers
			// were right expire at the latest one original TTL later.
			orig := max(s.ttl, s.soaMin)
			if len(s.values) > 0 {
				orig = max(orig, authTTL)
			}
			deadline := first.Add(time.Duration(orig) * time.Second)
			old := "old data"
			if s.negative() {
				old = "a negative answer (" + s.cond + ")"
			}
			if !ev.now.Before(deadline) {
				add(StatusFail, "resolver %s still serves %s %s after the authoritative servers changed, past its TTL of %ds (serve-stale, RFC 8767, or a broken cache)", label, old, ev.now.Sub(first).Round(time.Second), orig)
				o.obs = append(o.obs, obsOf(s, StatusFail))
				continue
			}
			eta := min(time.Duration(s.ttl)*time.Second, deadline.Sub(ev.now))
			secs := max(1, int((eta+time.Second-1)/time.Second))
			maxETA = max(maxETA, secs)
			add(StatusPending, "resolver %s still serves %s; clears in ≈ %s", label, old, time.Duration(secs)*time.Second)
			o.obs = append(o.obs, obsOf(s, StatusPending))
		default:
			st := StatusFail
			if v := judge(s); v.ok() {
				st = StatusPass
			}
			o.obs = append(o.obs, obsOf(s, st))
		}
	}
	if maxETA >= 0 {
		o.eta = &maxETA
	}

	o.status = StatusPass
	for _, p := range probs {
		o.status = Worse(o.status, p.status)
	}
	if o.status == StatusError {
		o.status = StatusFail
	}
	sort.SliceStable(probs, func(i, j int) bool { return rank(probs[i].status) > rank(probs[j].status) })
	var texts []string
	for _, p := range probs {
		if len(texts) < 3 && !slices.Contains(texts, p.text) {
			texts = append(texts, p.text)
		}
	}
	if len(texts) > 0 {
		o.detail = strings.Join(texts, "; ")
	} else {
		o.detail = o.verdict.detail
	}
	if o.status == StatusPending && o.fix == "" {
		o.fix = "nothing to change: wait until the resolvers' caches expire"
	}
	if o.status == StatusFail && o.fix == "" {
		for _, p := range probs {
			if p.status == StatusFail && strings.HasPrefix(p.text, "resolver ") {
				o.fix = "check that the resolvers answer (network, firewall, DNSSEC validation of the zone)"
				break
			}
		}
	}
	return o
}

func rank(s Status) int {
	switch s {
	case StatusFail, StatusError:
		return 4
	case StatusPending:
		return 3
	case StatusWarn:
		return 2
	case StatusPass:
		return 1
	}
	return 0
}

// result fills a Result from an outcome.
func (o outcome) result(id, name string, qtype string, expected string) Result {
	return Result{ID: id, Name: name, Type: qtype, Status: o.status, Expected: expected, Detail: o.detail, Fix: o.fix, ETASeconds: o.eta, Observations: o.obs}
}

// zoneLines formats records as zone-file lines, one per line.
func zoneLines(recs ...records.Record) string {
	var lines []string
	for _, r := range recs {
		if r.TTL == 0 {
			r.TTL = fixTTL
		}
		lines = append(lines, r.ZoneLine(""))
	}
	return strings.Join(lines, "\n")
}

// txtLines formats TXT values at name as zone lines.
func txtLines(name string) func([]string) string {
	return func(vals []string) string {
		var recs []records.Record
		for _, v := range vals {
			recs = append(recs, records.Record{Name: fqdn(name), Type: records.TypeTXT, Value: v})
		}
		if len(recs) == 0 {
			return "(no record at " + fqdn(name) + ")"
		}
		return zoneLines(recs...)
	}
}

// skipped is a skipped result.
func skipped(id, name, qtype, why string) Result {
	return Result{ID: id, Name: name, Type: qtype, Status: StatusSkipped, Detail: why, Observations: []Observation{}}
}
