package dnscheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
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

// Engine defaults.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultRetries     = 1
	DefaultConcurrency = 64
	DefaultUDPSize     = 1232
)

// Errors of a Response or of discovery, matched with errors.Is. The
// message of a wrapped error says what happened in words, such as
// "dnscheck: timed out after 2s (2 tries)".
var (
	// ErrTimeout: the server did not answer within the timeout, on any try.
	ErrTimeout = errors.New("dnscheck: timed out")
	// ErrConnRefused: the server's host refused the connection (nothing
	// listens on the port: ICMP port unreachable or a TCP reset).
	ErrConnRefused = errors.New("dnscheck: connection refused")
	// ErrUnreachable: no route to the server (often an IPv6 address on a
	// host without IPv6 connectivity).
	ErrUnreachable = errors.New("dnscheck: network unreachable")
	// ErrMalformed: the reply could not be parsed or answers another question.
	ErrMalformed = errors.New("dnscheck: malformed reply")
	// ErrTruncated: the UDP reply was truncated and the TCP retry failed.
	ErrTruncated = errors.New("dnscheck: truncated reply")
	// ErrCanceled: the round's context ended before the server answered.
	ErrCanceled = errors.New("dnscheck: canceled")
	// ErrBadAddress: a server address is not an IP address with a port (host
	// names are refused: they would need the system resolver).
	ErrBadAddress = errors.New("dnscheck: bad server address")
	// ErrNoZone: the zone a name belongs to could not be found.
	ErrNoZone = errors.New("dnscheck: zone not found")
	// ErrNoServers: the zone's NS set could not be found or is empty.
	ErrNoServers = errors.New("dnscheck: no authoritative servers")
	// ErrNoAddress: a name server of the NS set has no A/AAAA address.
	ErrNoAddress = errors.New("dnscheck: name server has no address")
)

// Engine sends queries and discovers authoritative servers. It is safe for
// concurrent use and caches discovery for its lifetime (one check run).
type Engine struct {
	cfg Config

	timeout   time.Duration
	tries     int
	udpSize   uint16
	port      string
	resolvers []Server
	auth      []Server      // Config.Authoritative; nil: discover
	sem       chan struct{} // one token per query in flight

	mu      sync.Mutex
	zones   map[string]*call[string]    // name -> zone apex
	servers map[string]*call[serverSet] // zone -> NS set
	hosts   map[string]*call[[]netip.Addr]
}

// serverSet is a zone's authoritative servers as discovered: those with an
// address, and the NS names that have none (each reported in a round as a
// Response with Err set).
type serverSet struct {
	servers []Server
	bad     []Response
}

// NewEngine returns an engine for cfg.
func NewEngine(cfg Config) *Engine {
	e := &Engine{
		cfg:     cfg,
		timeout: cfg.Timeout,
		tries:   1 + cfg.Retries,
		udpSize: cfg.UDPSize,
		port:    "53",
		zones:   map[string]*call[string]{},
		servers: map[string]*call[serverSet]{},
		hosts:   map[string]*call[[]netip.Addr]{},
	}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	switch {
	case cfg.Retries == 0:
		e.tries = 1 + DefaultRetries
	case cfg.Retries < 0:
		e.tries = 1
	}
	if e.udpSize == 0 {
		e.udpSize = DefaultUDPSize
	}
	if cfg.DiscoveryPort > 0 {
		e.port = strconv.Itoa(cfg.DiscoveryPort)
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	e.sem = make(chan struct{}, n)
	resolvers := cfg.Resolvers
	if len(resolvers) == 0 {
		resolvers = DefaultResolvers
	}
	for _, a := range resolvers {
		e.resolvers = append(e.resolvers, Server{Addr: withPort(a, "53"), Kind: Recursive})
	}
	for _, a := range cfg.Authoritative {
		e.auth = append(e.auth, Server{Addr: withPort(a, "53"), Kind: Authoritative})
	}
	return e
}

// withPort adds port to a bare address ("192.0.2.1", "2001:db8::1",
// "[2001:db8::1]"); an address with a port is returned as is.
func withPort(addr, port string) string {
	addr = strings.TrimSpace(addr)
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]"), port)
}

// Round sends every query to the authoritative servers of the query's zone
// (RD=0; discovered once per zone, or Config.Authoritative) and to every
// resolver (RD=1), all in flight at once under the concurrency bound, and
// returns every response. Discovery failures show up as responses with Err
// set for a pseudo-server, never as silence.
//
// A query's responses come in a fixed order: the authoritative servers (in
// Servers order, then NS names without an address), then the resolvers in
// Config order. A discovery pseudo-server has Kind Authoritative, an empty
// Addr and a Name saying what failed. Duplicate queries are sent once.
// Each query's authoritative queries leave as soon as its own discovery is
// done (at once when discovery is cached or overridden), never waiting for
// another query's.
func (e *Engine) Round(ctx context.Context, queries []Query) *Responses {
	qs := make([]Query, 0, len(queries))
	seen := make(map[Query]bool, len(queries))
	for _, q := range queries {
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	type slot struct{ auth, rec []Response }
	slots := make([]slot, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		slots[i].rec = make([]Response, len(e.resolvers))
		for j, s := range e.resolvers {
			wg.Go(func() { slots[i].rec[j] = e.exchange(ctx, s, q) })
		}
		wg.Go(func() { slots[i].auth = e.authoritative(ctx, q) })
	}
	wg.Wait()
	rs := &Responses{byQuery: make(map[Query][]Response, len(qs))}
	for i := range slots {
		for _, r := range slots[i].auth {
			rs.Add(r)
		}
		for _, r := range slots[i].rec {
			rs.Add(r)
		}
	}
	return rs
}

// authoritative asks every authoritative server of q's zone, concurrently.
func (e *Engine) authoritative(ctx context.Context, q Query) []Response {
	servers := e.auth
	var bad []Response
	if servers == nil {
		zone, err := e.Zone(ctx, q.Name)
		if err != nil {
			return []Response{e.pseudo(q, "zone of "+q.Name, err)}
		}
		set, err := e.serverSet(ctx, zone)
		if err != nil && len(set.servers) == 0 && len(set.bad) == 0 {
			return []Response{e.pseudo(q, "name servers of "+zone, err)}
		}
		servers = set.servers
		for _, b := range set.bad {
			b.Query = q
			bad = append(bad, b)
		}
	}
	out := make([]Response, len(servers), len(servers)+len(bad))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { out[i] = e.exchange(ctx, s, q) })
	}
	wg.Wait()
	return append(noRoute6(out), bad...)
}

// noRoute6 drops the responses of IPv6 servers this machine has no route to
// (an IPv4-only host asking a zone with IPv6 name servers), as long as
// another server of the zone answered: those servers are not wrong, only out
// of reach from here. If nothing else answered they stay, so a check never
// passes on silence.
func noRoute6(rs []Response) []Response {
	kept := rs[:0:0]
	others := false
	for _, r := range rs {
		if !(r.Err != nil && errors.Is(r.Err, ErrUnreachable) && isIPv6(r.Server.Addr)) {
			kept = append(kept, r)
			others = others || r.Err == nil
		}
	}
	if !others {
		return rs
	}
	return kept
}

func isIPv6(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	return err == nil && ap.Addr().Is6() && !ap.Addr().Is4In6()
}

// pseudo is the response of a pseudo-server standing for a failed discovery.
func (e *Engine) pseudo(q Query, what string, err error) Response {
	return Response{Server: Server{Kind: Authoritative, Name: what}, Query: q, Err: err, At: time.Now()}
}

// Lookup asks the resolvers in order and returns the first response that is
// an answer or an authoritative negative (NXDOMAIN/NODATA); if none
// answers, the last failure. It implements Resolver.
func (e *Engine) Lookup(ctx context.Context, name string, qtype uint16) Response {
	q := Query{Name: dns.Fqdn(name), Type: qtype}
	var last Response
	for _, s := range e.resolvers {
		last = e.exchange(ctx, s, q)
		switch last.Condition() {
		case "answer", "nxdomain", "nodata":
			return last
		}
		if ctx.Err() != nil {
			break
		}
	}
	return last
}

var _ Resolver = (*Engine)(nil)

// Zone returns the apex of the zone name belongs to (found with SOA queries
// through the resolvers), cached.
//
// The apex is the owner of the SOA in the answer, or in the authority
// section of a negative answer. A name that is a CNAME is not an apex: its
// zone is its parent's (the SOA a resolver returns after following the
// CNAME belongs to the target). Without any SOA the parent is tried. The
// result is lower case with the trailing dot. Failures are not cached.
func (e *Engine) Zone(ctx context.Context, name string) (string, error) {
	name = dns.CanonicalName(name)
	return do(ctx, &e.mu, e.zones, name, func(ctx context.Context) (string, bool, error) {
		z, err := e.findZone(ctx, name)
		return z, err == nil, err
	})
}

func (e *Engine) findZone(ctx context.Context, name string) (string, error) {
	r := e.Lookup(ctx, name, dns.TypeSOA)
	if ended(ctx) {
		return "", canceled(ctx)
	}
	switch r.Condition() {
	case "answer", "nodata", "nxdomain":
	default:
		return "", fmt.Errorf("%w for %s: SOA query: %s", ErrNoZone, name, describe(r))
	}
	cname := false
	for _, rr := range r.Answer {
		if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
			cname = true
		}
	}
	if !cname {
		for _, rr := range r.Answer {
			if s, ok := rr.(*dns.SOA); ok && strings.EqualFold(s.Hdr.Name, name) {
				return name, nil
			}
		}
		for _, rr := range r.Ns {
			if s, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(s.Hdr.Name, name) {
				return dns.CanonicalName(s.Hdr.Name), nil
			}
		}
	}
	if name == "." {
		return "", fmt.Errorf("%w: no SOA for the root", ErrNoZone)
	}
	parent := "."
	if i, end := dns.NextLabel(name, 0); !end {
		parent = name[i:]
	}
	return e.Zone(ctx, parent)
}

// Servers returns the authoritative servers of zone: its NS set, each name's
// addresses, cached; or Config.Authoritative.
//
// Servers are sorted by NS name, then address. When some NS names have no
// address, Servers returns the others together with an error naming each
// (wrapping ErrNoAddress); Round reports each as a Response with Err set.
// A discovered set is cached unless an NS name failed for a transient reason
// (timeout, SERVFAIL), so a later round tries again.
func (e *Engine) Servers(ctx context.Context, zone string) ([]Server, error) {
	if e.auth != nil {
		return slices.Clone(e.auth), nil
	}
	set, err := e.serverSet(ctx, zone)
	if err != nil {
		return set.servers, err
	}
	var errs []error
	for _, b := range set.bad {
		errs = append(errs, fmt.Errorf("%s: %w", b.Server.Name, b.Err))
	}
	return slices.Clone(set.servers), errors.Join(errs...)
}

func (e *Engine) serverSet(ctx context.Context, zone string) (serverSet, error) {
	zone = dns.CanonicalName(zone)
	return do(ctx, &e.mu, e.servers, zone, func(ctx context.Context) (serverSet, bool, error) {
		return e.findServers(ctx, zone)
	})
}

func (e *Engine) findServers(ctx context.Context, zone string) (serverSet, bool, error) {
	r := e.Lookup(ctx, zone, dns.TypeNS)
	if ctx.Err() != nil {
		return serverSet{}, false, canceled(ctx)
	}
	if r.Condition() != "answer" {
		return serverSet{}, false, fmt.Errorf("%w for %s: NS query: %s", ErrNoServers, zone, describe(r))
	}
	var names []string
	for _, v := range r.Values() {
		v = dns.CanonicalName(v)
		if !slices.Contains(names, v) {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return serverSet{}, false, fmt.Errorf("%w for %s: the NS answer holds no name server", ErrNoServers, zone)
	}
	slices.Sort(names)
	addrs := make([][]netip.Addr, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { addrs[i], errs[i] = e.hostAddrs(ctx, n) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return serverSet{}, false, canceled(ctx)
	}
	var set serverSet
	cache := true
	for i, n := range names {
		for _, a := range addrs[i] {
			set.servers = append(set.servers, Server{Addr: net.JoinHostPort(a.String(), e.port), Kind: Authoritative, Name: n})
		}
		if errs[i] != nil {
			set.bad = append(set.bad, Response{Server: Server{Kind: Authoritative, Name: n}, Err: errs[i], At: time.Now()})
			if !errors.Is(errs[i], ErrNoAddress) {
				cache = false
			}
		}
	}
	return set, cache, nil
}

// hostAddrs returns the A and AAAA addresses of a name server, sorted.
// A name without addresses gives ErrNoAddress; a failed lookup (timeout,
// SERVFAIL) is an error that is not cached.
func (e *Engine) hostAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	return do(ctx, &e.mu, e.hosts, host, func(ctx context.Context) ([]netip.Addr, bool, error) {
		var a, aaaa Response
		var wg sync.WaitGroup
		wg.Go(func() { a = e.Lookup(ctx, host, dns.TypeA) })
		wg.Go(func() { aaaa = e.Lookup(ctx, host, dns.TypeAAAA) })
		wg.Wait()
		if ctx.Err() != nil {
			return nil, false, canceled(ctx)
		}
		var addrs []netip.Addr
		failed := false
		for _, r := range []Response{a, aaaa} {
			switch r.Condition() {
			case "answer":
				for _, v := range r.Values() {
					if ip, err := netip.ParseAddr(v); err == nil {
						addrs = append(addrs, ip)
					}
				}
			case "nxdomain", "nodata":
			default:
				failed = true
			}
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		addrs = slices.Compact(addrs)
		switch {
		case len(addrs) > 0:
			return addrs, !failed, nil
		case failed:
			return nil, false, fmt.Errorf("looking up the address of name server %s: A: %s; AAAA: %s", host, describe(a), describe(aaaa))
		default:
			return nil, true, fmt.Errorf("%w: %s (A: %s, AAAA: %s)", ErrNoAddress, host, a.Condition(), aaaa.Condition())
		}
	})
}

// describe says in words what a response was, for error messages.
func describe(r Response) string {
	switch {
	case r.Err != nil && r.Server.Addr != "":
		return r.Err.Error() + " (" + r.Server.Addr + ")"
	case r.Err != nil:
		return r.Err.Error()
	case r.Server.Addr == "":
		return "no server asked"
	default:
		return r.Condition() + " from " + r.Server.Addr
	}
}

// call is one discovery lookup, shared by concurrent callers.
type call[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do runs fn once per key while its result is cached: concurrent callers
// wait for the first one's lookup. A result fn marks as not cacheable (a
// failure) is returned to the callers waiting at the time and then
// forgotten. A caller whose context is still alive retries when the lookup
// it waited on ended because another caller's context did.
func do[T any](ctx context.Context, mu *sync.Mutex, m map[string]*call[T], key string, fn func(context.Context) (T, bool, error)) (T, error) {
	for {
		mu.Lock()
		c, ok := m[key]
		if !ok {
			c = &call[T]{done: make(chan struct{})}
			m[key] = c
			mu.Unlock()
			var cache bool
			c.val, cache, c.err = fn(ctx)
			if !cache {
				mu.Lock()
				if m[key] == c {
					delete(m, key)
				}
				mu.Unlock()
			}
			close(c.done)
			return c.val, c.err
		}
		mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero T
			return zero, canceled(ctx)
		}
		if c.err != nil && errors.Is(c.err, ErrCanceled) && ctx.Err() == nil {
			continue
		}
		return c.val, c.err
	}
}

func canceled(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == nil {
		cause = context.DeadlineExceeded // ended reports the deadline before ctx's timer fires
	}
	return fmt.Errorf("%w: %w", ErrCanceled, cause)
}

// ended reports whether ctx is done, or its deadline has passed. miekg/dns
// sets the connection's deadline from ctx's, so a read can time out an
// instant before ctx's own timer marks it done: that is the caller's
// deadline, not the server's silence.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// exchange sends q to s once (RD=1 for a resolver, RD=0 for an
// authoritative server) over UDP with EDNS0, retrying after a timeout and
// over TCP after truncation, holding one concurrency token throughout.
func (e *Engine) exchange(ctx context.Context, s Server, q Query) (r Response) {
	r = Response{Server: s, Query: q}
	defer func() { r.At = time.Now() }()
	ap, err := netip.ParseAddrPort(s.Addr)
	if err != nil {
		r.Err = fmt.Errorf("%w: %q is not an IP address and port", ErrBadAddress, s.Addr)
		return r
	}
	if err := ctx.Err(); err != nil {
		r.Err = canceled(ctx)
		return r
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		r.Err = canceled(ctx)
		return r
	}
	defer func() { <-e.sem }()

	addr := ap.String()
	edns := true
	var reply *dns.Msg
	var rtt time.Duration
	for try := 1; ; try++ {
		reply, rtt, err = e.attempt(ctx, "udp", addr, q, s.Kind == Recursive, edns)
		if err == nil && edns && (reply.Rcode == dns.RcodeFormatError || reply.Rcode == dns.RcodeNotImplemented) && reply.IsEdns0() == nil {
			// A server that does not know EDNS0 (RFC 6891 §7): ask again without it.
			edns = false
			reply, rtt, err = e.attempt(ctx, "udp", addr, q, s.Kind == Recursive, edns)
		}
		if err == nil || !isTimeout(err) || ended(ctx) || try >= e.tries {
			if err != nil {
				r.Err = e.wordError(ctx, err)
				return r
			}
			break
		}
	}
	if reply.Truncated {
		reply, rtt, err = e.attempt(ctx, "tcp", addr, q, s.Kind == Recursive, edns)
		if err != nil {
			r.Err = fmt.Errorf("%w over UDP; retrying over TCP: %w", ErrTruncated, e.wordError(ctx, err))
			return r
		}
	}
	r.Rcode = reply.Rcode
	r.AA = reply.Authoritative
	r.Answer = reply.Answer
	r.Ns = reply.Ns
	r.RTT = rtt
	return r
}

// attempt is one query over network, interrupted by the per-query timeout
// or by ctx.
func (e *Engine) attempt(ctx context.Context, network, addr string, q Query, rd, edns bool) (*dns.Msg, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Type)
	m.RecursionDesired = rd
	if edns {
		m.SetEdns0(e.udpSize, false)
	}
	actx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	c := &dns.Client{Net: network, UDPSize: e.udpSize, Timeout: e.timeout}
	conn, err := c.DialContext(actx, addr)
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	// ExchangeWithConnContext honours only the deadline: cancellation
	// interrupts the read by moving the deadline to now.
	stop := context.AfterFunc(actx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	reply, rtt, err := c.ExchangeWithConnContext(actx, m, conn)
	if err != nil {
		return nil, rtt, err
	}
	if !reply.Response || len(reply.Question) != 1 ||
		!strings.EqualFold(reply.Question[0].Name, q.Name) || reply.Question[0].Qtype != q.Type {
		return nil, rtt, fmt.Errorf("%w: the reply does not answer %s %s", ErrMalformed, q.Name, dns.TypeToString[q.Type])
	}
	return reply, rtt, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// wordError turns a transport error into one wrapping a sentinel, in words.
func (e *Engine) wordError(ctx context.Context, err error) error {
	switch {
	case ended(ctx):
		return canceled(ctx)
	case errors.Is(err, ErrMalformed):
		return err
	case isTimeout(err):
		tries := "1 try"
		if e.tries > 1 {
			tries = strconv.Itoa(e.tries) + " tries"
		}
		return fmt.Errorf("%w after %s (%s)", ErrTimeout, e.timeout, tries)
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrConnRefused
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case errors.Is(err, dns.ErrId), errors.Is(err, dns.ErrShortRead), isUnpackError(err):
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	default:
		return fmt.Errorf("dnscheck: query failed: %w", err)
	}
}

// isUnpackError reports a reply miekg/dns could not parse.
func isUnpackError(err error) bool {
	var de *dns.Error
	return errors.As(err, &de)
}
