// Package dnscheck checks a domain's mail records live, with miekg/dns and
// never the system resolver: on every authoritative server of each zone
// (queried directly, RD=0) and on a list of recursive resolvers. It returns
// data — a status, what was expected, what each server said and the fix —
// that the check command prints as a table or JSON and the wizard's
// dashboard renders.
//
// A round has three layers:
//   - the Engine sends queries (UDP with EDNS0, TCP on truncation, timeout
//     and retry, all in flight at once under a concurrency bound) and
//     discovers each zone's authoritative servers;
//   - Plan lists the queries the expectations need, so one round sends them
//     all together;
//   - Evaluate turns the responses into Results, one per check id per
//     domain (per selector for dkim, per IP for ptr and helo).
package dnscheck

import (
	"context"
	"crypto"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// Check ids: stable, scripts rely on them.
const (
	CheckA     = "a"
	CheckPTR   = "ptr"
	CheckHELO  = "helo"
	CheckMX    = "mx"
	CheckSPF   = "spf"
	CheckDKIM  = "dkim"
	CheckDMARC = "dmarc"
	CheckNS    = "ns"
	CheckDNSBL = "dnsbl"
)

// Status is the outcome of a check, or of one server's observation.
type Status string

// Check statuses, worst last in Worse's order.
const (
	StatusPass    Status = "pass"
	StatusSkipped Status = "skipped"
	StatusWarn    Status = "warn"
	StatusPending Status = "pending" // authoritative servers are right; some resolvers still serve old data
	StatusFail    Status = "fail"
	// StatusError is an observation's status when the server did not answer.
	StatusError Status = "error"
)

// Worse returns the worse of two check statuses (fail > pending > warn > pass/skipped).
func Worse(a, b Status) Status {
	rank := map[Status]int{StatusSkipped: 0, StatusPass: 1, StatusWarn: 2, StatusPending: 3, StatusFail: 4, StatusError: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// Kind says whether a server is authoritative for the zone or a recursive resolver.
type Kind string

// Server kinds.
const (
	Authoritative Kind = "authoritative"
	Recursive     Kind = "recursive"
)

// Server is one DNS server a round asks.
type Server struct {
	Addr string // host:port
	Kind Kind
	Name string // the NS name, for authoritative servers found by discovery
}

// Query is one question.
type Query struct {
	Name string // FQDN with trailing dot
	Type uint16 // dns.TypeTXT, ...
}

// Response is one server's answer to one query.
type Response struct {
	Server Server
	Query  Query
	// Err is set when no usable answer came: a timeout, a refused
	// connection, a malformed reply. Rcode is meaningful only when Err is nil.
	Err    error
	Rcode  int
	AA     bool // the authoritative-answer bit
	Answer []dns.RR
	Ns     []dns.RR // authority section: the SOA of a negative answer
	RTT    time.Duration
	At     time.Time // when the answer arrived
}

// Condition names what a response says, in words: "answer", "nxdomain",
// "nodata", "servfail", "refused", "timeout", "lame" (an authoritative
// server that answers without authority for the name), or "error".
func (r Response) Condition() string { return condition(r) }

// Values returns the answer's records of the query's type as presentation
// strings: TXT strings joined into one, MX as "10 mx.example.com.", A as the
// address, CNAME/PTR targets with trailing dot.
func (r Response) Values() []string { return values(r) }

// TTL is the smallest TTL among the answer records of the query's type; for
// a negative answer, min(SOA TTL, SOA MINIMUM) of the authority section
// (RFC 2308). 0 when unknown.
func (r Response) TTL() uint32 { return ttl(r) }

// Responses holds every response of a round, by query.
type Responses struct {
	byQuery map[Query][]Response
}

// Get returns the responses to q from every server asked.
func (rs *Responses) Get(q Query) []Response {
	if rs == nil {
		return nil
	}
	return rs.byQuery[q]
}

// Add records a response.
func (rs *Responses) Add(r Response) {
	if rs.byQuery == nil {
		rs.byQuery = map[Query][]Response{}
	}
	rs.byQuery[r.Query] = append(rs.byQuery[r.Query], r)
}

// Resolver does the follow-up lookups of an evaluation that a plan cannot
// know in advance (SPF include chains, CNAME targets not in the answer, a
// report domain's authorisation record), through the recursive resolvers.
// The Engine implements it; tests may use a map-backed fake.
type Resolver interface {
	Lookup(ctx context.Context, name string, qtype uint16) Response
}

// Expect is what one domain should look like: built from an answers file
// and bundle, or from check flags for any domain.
type Expect struct {
	Domain string
	// Hostname is the mail server's name; empty when unknown (then a and
	// ptr are skipped).
	Hostname string
	// IPs are the sending addresses: a/aaaa of Hostname, PTR, SPF pass.
	IPs []netip.Addr
	// MX is the expected MX host set (FQDNs without trailing dot); empty:
	// only "the domain has an MX" is checked.
	MX []string
	// SPFIncludes must appear in the SPF record (include:spf.protection.outlook.com).
	SPFIncludes []string
	// Selectors to check. Probe selectors are looked for and checked when
	// found; when no selector is found at all, dkim fails.
	Selectors []Selector
	// SMTP is the address of a live SMTP probe (helo); empty: skipped.
	SMTP string
	// HELOOverride is smtp_helo_name when the applied config sets one.
	HELOOverride string
	// DNSBL turns on the blocklist check.
	DNSBL bool
}

// Selector is one DKIM selector to check.
type Selector struct {
	Name string
	// Key is the public key the record must hold; nil: any valid key.
	Key crypto.PublicKey
	// Probe marks a commonly used selector tried without being asked for.
	Probe bool
}

// Observation is one server's view of a check's record, as reported.
type Observation struct {
	Server string   `json:"server"`
	Kind   Kind     `json:"kind"`
	Rcode  string   `json:"rcode"`
	Error  string   `json:"error,omitempty"`
	Values []string `json:"values"`
	TTL    uint32   `json:"ttl"`
	Status Status   `json:"status"`
}

// Result is the outcome of one check.
type Result struct {
	ID       string `json:"id"`
	Domain   string `json:"domain"`
	Selector string `json:"selector,omitempty"`
	IP       string `json:"ip,omitempty"`
	// Name and Type are the record looked at: "_dmarc.example.com.", "TXT".
	Name     string `json:"name"`
	Type     string `json:"type"`
	Status   Status `json:"status"`
	Expected string `json:"expected"`
	// Detail is one line for the table; Fix the exact change to make.
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
	// ETASeconds estimates when a pending check clears.
	ETASeconds   *int          `json:"eta_seconds,omitempty"`
	Observations []Observation `json:"observations"`
}

// Report is a whole check run: the JSON document of `check --json`.
type Report struct {
	Status Status   `json:"status"`
	Checks []Result `json:"checks"`
}
