// Package providers publishes a bundle's DNS records: it reads what a zone
// holds now, plans the changes (merging SPF, never weakening DMARC, never
// touching unrelated TXT records), and pushes them through a provider
// (Cloudflare's API, RFC 2136 dynamic update), then re-reads to prove what
// was applied.
package providers

import (
	"context"
	"errors"

	"github.com/sendready/sendready/records"
)

// Errors shared by providers and the planner.
var (
	// ErrConflict: the plan holds a change sendready will not make on its
	// own (a weaker DMARC, a proxied mail host, an SPF merge over 10
	// lookups, records it does not own); nothing is pushed.
	ErrConflict = errors.New("providers: conflict")
	// ErrChanged: the zone changed since it was read; nothing was applied.
	ErrChanged = errors.New("providers: the zone changed since it was read")
)

// Existing is a record a zone holds now, as its provider reports it.
type Existing struct {
	records.Record
	// ID is the provider's record id (Cloudflare); "" for RFC 2136.
	ID string
	// Proxied is Cloudflare's orange cloud: a proxied mail host's A/AAAA
	// points at Cloudflare, not at the server.
	Proxied bool
}

// Action is what a plan does with one record.
type Action string

// Plan actions.
const (
	Create    Action = "create"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
	Conflict  Action = "conflict"
)

// Change is one line of a plan.
type Change struct {
	Action Action
	// Old is what the zone holds (update, delete, unchanged, conflict).
	Old *Existing
	// New is what the zone will hold (create, update, unchanged; for a
	// conflict, what sendready wanted).
	New records.Record
	// Why explains the change in words (the SPF merge, the DMARC policy kept…).
	Why string
}

// Plan is every change for one zone.
type Plan struct {
	Zone    string
	Changes []Change
}

// Pending reports whether the plan changes anything.
func (p Plan) Pending() bool {
	for _, c := range p.Changes {
		if c.Action == Create || c.Action == Update || c.Action == Delete {
			return true
		}
	}
	return false
}

// Conflicts returns the changes sendready will not make on its own.
func (p Plan) Conflicts() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Action == Conflict {
			out = append(out, c)
		}
	}
	return out
}

// Provider reads and changes one DNS provider's zones.
type Provider interface {
	// Name is "cloudflare" or "rfc2136".
	Name() string
	// Read returns every record the zone holds at names (FQDNs with
	// trailing dot), of types A, AAAA, MX, TXT and CNAME.
	Read(ctx context.Context, zone string, names []string) ([]Existing, error)
	// Apply makes the plan's create, update and delete changes. It refuses
	// (ErrChanged) when the zone no longer holds the plan's Old records, so
	// a zone that changed since the plan is not overwritten.
	Apply(ctx context.Context, p Plan) error
}

// Options tune planning.
type Options struct {
	// Force allows weakening an existing DMARC policy and replacing records
	// sendready does not own.
	Force bool
}

// MakePlan compares what a bundle wants in zone (records of that zone,
// from dns/records.json) with what the zone has.
//
// The plan lists, in the order of want, one change per record sendready
// publishes, then the records it found beside them: records of a set it
// owns (the MX set, the mail host's A/AAAA, its DKIM selector) that are
// not its own are conflicts (deleted with Force), other TXT records are
// unchanged and never touched. The SPF record is merged, never
// duplicated; a DMARC record is never weakened without Force. Only the
// value decides whether a record is unchanged: a TTL that differs from
// the bundle's is left as it is, and records joining a set that keeps
// other records take that set's TTL (an RRset has one TTL, RFC 2181
// §5.2).
func MakePlan(zone string, want []records.Record, have []Existing, opts Options) (Plan, error) {
	return makePlan(zone, want, have, opts)
}
