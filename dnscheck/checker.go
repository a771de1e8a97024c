package dnscheck

import (
	"context"
	"time"
)

// Checker runs check rounds. It remembers, across rounds, when each record
// was first seen right on the authoritative servers, to bound how long
// resolvers may serve old data (pending, then fail).
type Checker struct {
	Engine *Engine
	// Now is the clock (time.Now); tests replace it.
	Now func() time.Time
}

// New returns a Checker with a real engine for cfg.
func New(cfg Config) *Checker { panic("not implemented") }

// Round checks every expectation once: Plan for all of them, one
// Engine.Round with every query in flight, the SMTP probes alongside, then
// Evaluate per domain (concurrently). Results are ordered by domain (in
// exps order), then check id in the order a, ptr, helo, mx, spf, dkim,
// dmarc, ns, dnsbl, then selector/ip.
func (c *Checker) Round(ctx context.Context, exps []Expect) Report { panic("not implemented") }

// NextPoll is how long to wait before the next round of --wait: the
// smallest ETA of a pending check, else the smallest TTL seen, never below
// 5 s.
func (r Report) NextPoll() time.Duration { panic("not implemented") }

// Plan lists the queries a round needs for exps, without duplicates.
func Plan(exps []Expect) []Query { panic("not implemented") }
