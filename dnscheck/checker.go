package dnscheck

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Checker runs check rounds. It remembers, across rounds, when each record
// was first seen right on the authoritative servers, to bound how long
// resolvers may serve old data (pending, then fail).
type Checker struct {
	Engine *Engine
	// Now is the clock (time.Now); tests replace it.
	Now func() time.Time
	// Resolver does the follow-up lookups; nil: Engine.
	Resolver Resolver
	// Tracker remembers first sightings across rounds; nil: the first
	// Round makes one.
	Tracker *Tracker

	mu sync.Mutex
}

// New returns a Checker with a real engine for cfg.
func New(cfg Config) *Checker {
	return &Checker{Engine: NewEngine(cfg), Now: time.Now, Tracker: NewTracker()}
}

// checkOrder is the order of check ids within a domain.
var checkOrder = []string{CheckA, CheckPTR, CheckHELO, CheckMX, CheckSPF, CheckDKIM, CheckDMARC, CheckNS, CheckDNSBL}

// Round checks every expectation once: Plan for all of them, one
// Engine.Round with every query in flight, the SMTP probes alongside, then
// Evaluate per domain (concurrently). Results are ordered by domain (in
// exps order), then check id in the order a, ptr, helo, mx, spf, dkim,
// dmarc, ns, dnsbl, then selector/ip.
func (c *Checker) Round(ctx context.Context, exps []Expect) Report {
	c.mu.Lock()
	if c.Tracker == nil {
		c.Tracker = NewTracker()
	}
	tr := c.Tracker
	c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	var res Resolver = c.Engine
	if c.Resolver != nil {
		res = c.Resolver
	}

	var wg sync.WaitGroup
	var rs *Responses
	wg.Go(func() { rs = c.Engine.Round(ctx, Plan(exps)) })
	helo := make([]Result, len(exps))
	for i, e := range exps {
		wg.Go(func() { helo[i] = ProbeHELO(ctx, e) })
	}
	wg.Wait()

	at := now()
	per := make([][]Result, len(exps))
	for i, e := range exps {
		wg.Go(func() {
			rr := Evaluate(ctx, e, rs, res, tr, at)
			rr = append(rr, helo[i])
			slices.SortStableFunc(rr, func(a, b Result) int {
				return slices.Index(checkOrder, a.ID) - slices.Index(checkOrder, b.ID)
			})
			per[i] = rr
		})
	}
	wg.Wait()

	rep := Report{Status: StatusPass, Checks: []Result{}}
	for _, rr := range per {
		for _, r := range rr {
			rep.Status = Worse(rep.Status, r.Status)
			rep.Checks = append(rep.Checks, r)
		}
	}
	if rep.Status == StatusError {
		rep.Status = StatusFail
	}
	return rep
}

// MinPoll is the shortest wait NextPoll returns.
const MinPoll = 5 * time.Second

// NextPoll is how long to wait before the next round of --wait: the
// smallest ETA of a pending check, else the smallest TTL seen, never below
// 5 s.
func (r Report) NextPoll() time.Duration {
	best := time.Duration(-1)
	for _, c := range r.Checks {
		if c.Status == StatusPending && c.ETASeconds != nil {
			if d := time.Duration(*c.ETASeconds) * time.Second; best < 0 || d < best {
				best = d
			}
		}
	}
	if best < 0 {
		for _, c := range r.Checks {
			for _, o := range c.Observations {
				if o.TTL == 0 {
					continue
				}
				if d := time.Duration(o.TTL) * time.Second; best < 0 || d < best {
					best = d
				}
			}
		}
	}
	return max(best, MinPoll)
}
