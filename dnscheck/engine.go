package dnscheck

import (
	"context"
	"time"
)

// DefaultResolvers are the public resolvers a round asks unless --resolver
// replaces them.
var DefaultResolvers = []string{"1.1.1.1:53", "8.8.8.8:53", "9.9.9.9:53", "208.67.222.222:53"}

// Config configures the query engine.
type Config struct {
	// Resolvers are recursive resolvers (host:port; a bare address means
	// port 53). Empty: DefaultResolvers.
	Resolvers []string
	// Authoritative replaces discovery: every query's authoritative view
	// comes from these servers (split horizon, tests).
	Authoritative []string
	// DiscoveryPort is the port of discovered authoritative servers
	// (0: 53; tests use another).
	DiscoveryPort int
	// Timeout is the per-query timeout (0: 2 s); each query is retried once.
	Timeout time.Duration
	// Retries after a timeout (nil-equivalent 0 means the default of 1; use
	// NoRetry for none).
	Retries int
	// Concurrency bounds the queries in flight (0: 64).
	Concurrency int
	// UDPSize is the EDNS0 buffer size (0: 1232).
	UDPSize uint16
}

// NoRetry in Config.Retries turns retries off.
const NoRetry = -1

// Engine sends queries and discovers authoritative servers. It is safe for
// concurrent use and caches discovery for its lifetime (one check run).
type Engine struct {
	cfg Config
}

// NewEngine returns an engine for cfg.
func NewEngine(cfg Config) *Engine { panic("not implemented") }

// Round sends every query to the authoritative servers of the query's zone
// (RD=0; discovered once per zone, or Config.Authoritative) and to every
// resolver (RD=1), all in flight at once under the concurrency bound, and
// returns every response. Discovery failures show up as responses with Err
// set for a pseudo-server, never as silence.
func (e *Engine) Round(ctx context.Context, queries []Query) *Responses { panic("not implemented") }

// Lookup asks the resolvers in order and returns the first response that is
// an answer or an authoritative negative (NXDOMAIN/NODATA); if none
// answers, the last failure. It implements Resolver.
func (e *Engine) Lookup(ctx context.Context, name string, qtype uint16) Response {
	panic("not implemented")
}

// Zone returns the apex of the zone name belongs to (found with SOA queries
// through the resolvers), cached.
func (e *Engine) Zone(ctx context.Context, name string) (string, error) { panic("not implemented") }

// Servers returns the authoritative servers of zone: its NS set, each name's
// addresses, cached; or Config.Authoritative.
func (e *Engine) Servers(ctx context.Context, zone string) ([]Server, error) {
	panic("not implemented")
}

func condition(r Response) string { panic("not implemented") }
func values(r Response) []string  { panic("not implemented") }
func ttl(r Response) uint32       { panic("not implemented") }
