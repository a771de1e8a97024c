// Package rfc2136 publishes records through DNS UPDATE (RFC 2136) signed
// with a TSIG key (RFC 8945), to any primary server that accepts it (BIND,
// Knot, PowerDNS). It reads a zone with plain queries over TCP to the same
// server, one per name and type (no zone transfer needed), and sends one
// UPDATE per zone whose prerequisites (RFC 2136 §2.4) hold the records
// the plan was made from, so a zone that changed since is left as it is.
package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/records"
)

// Errors of the server's answers.
var (
	// ErrAuth means the server did not accept the TSIG key: a wrong
	// secret (BADSIG), a key it does not know (BADKEY), clocks apart
	// (BADTIME), or NOTAUTH.
	ErrAuth = errors.New("rfc2136: the server did not accept the TSIG key")
	// ErrRefused means the server refused the update (REFUSED): its
	// access control does not let the key update the zone.
	ErrRefused = errors.New("rfc2136: the server refused the update")
	// ErrNotAuthoritative means the server does not serve the zone.
	ErrNotAuthoritative = errors.New("rfc2136: the server is not authoritative for the zone")
)

// DefaultTimeout is the timeout of one exchange with the server.
const DefaultTimeout = 10 * time.Second

// Config says where updates go.
type Config struct {
	// Server is the primary's address, IP:port.
	Server string
	// Key signs the updates.
	Key Key
	// Timeout of one exchange; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Provider reads and updates zones on one server. It implements
// providers.Provider.
type Provider struct {
	cfg Config

	mu sync.Mutex
	// read holds the records as the server sent them, by rdataKey: a
	// TXT value split into other strings than records.SplitTXT would
	// make must be deleted and required exactly as the server holds it.
	read map[string]dns.RR
}

var _ providers.Provider = (*Provider)(nil)

// New checks cfg and returns the provider.
func New(cfg Config) (*Provider, error) {
	host, port, err := net.SplitHostPort(cfg.Server)
	if err != nil || host == "" {
		return nil, fmt.Errorf("rfc2136: server %q: write ADDRESS:PORT, such as 192.0.2.53:53", cfg.Server)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return nil, fmt.Errorf("rfc2136: server %q: bad port", cfg.Server)
	}
	if cfg.Key.Name == "" || cfg.Key.Secret == "" || cfg.Key.Algorithm == "" {
		return nil, errors.New("rfc2136: no TSIG key: updates must be signed")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Provider{cfg: cfg, read: map[string]dns.RR{}}, nil
}

// Name is "rfc2136".
func (p *Provider) Name() string { return "rfc2136" }

// readTypes are the types Read asks for at each name.
var readTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeCNAME}

// Read returns the A, AAAA, MX, TXT and CNAME records at names, asking
// the server over one TCP connection. It first checks that the server is
// authoritative for zone.
func (p *Provider) Read(ctx context.Context, zone string, names []string) ([]providers.Existing, error) {
	z := strings.ToLower(dns.Fqdn(zone))
	c := &dns.Client{Net: "tcp", Timeout: p.cfg.Timeout}
	conn, err := c.DialContext(ctx, p.cfg.Server)
	if err != nil {
		return nil, fmt.Errorf("reading zone %s from %s: %w", zone, p.cfg.Server, err)
	}
	defer conn.Close()
	ask := func(name string, t uint16) (*dns.Msg, error) {
		m := new(dns.Msg)
		m.SetQuestion(name, t)
		m.RecursionDesired = false
		r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
		if err != nil {
			return nil, fmt.Errorf("reading zone %s from %s: %s %s: %w", zone, p.cfg.Server, name, dns.TypeToString[t], err)
		}
		return r, nil
	}

	r, err := ask(z, dns.TypeSOA)
	if err != nil {
		return nil, err
	}
	hasSOA := false
	for _, rr := range r.Answer {
		hasSOA = hasSOA || rr.Header().Rrtype == dns.TypeSOA && strings.EqualFold(rr.Header().Name, z)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || !hasSOA {
		return nil, fmt.Errorf("%w: %s answered the SOA query for %s with %s%s: check the server address and that the zone is %s",
			ErrNotAuthoritative, p.cfg.Server, z, dns.RcodeToString[r.Rcode], map[bool]string{true: "", false: " and no authoritative SOA"}[hasSOA && r.Authoritative], z)
	}

	var out []providers.Existing
	for _, name := range names {
		n := strings.ToLower(dns.Fqdn(name))
		if !dns.IsSubDomain(z, n) {
			return nil, fmt.Errorf("reading zone %s: %s lies outside it", z, n)
		}
		for _, t := range readTypes {
			r, err := ask(n, t)
			if err != nil {
				return nil, err
			}
			if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
				return nil, fmt.Errorf("reading zone %s from %s: %s %s: the server answered %s", z, p.cfg.Server, n, dns.TypeToString[t], dns.RcodeToString[r.Rcode])
			}
			if !r.Authoritative {
				return nil, fmt.Errorf("%w: %s %s: the answer from %s is not authoritative (is %s delegated to another zone?)", ErrNotAuthoritative, n, dns.TypeToString[t], p.cfg.Server, n)
			}
			for _, rr := range r.Answer {
				h := rr.Header()
				if h.Rrtype != t || !strings.EqualFold(h.Name, n) {
					continue // the target of a CNAME, or a DNAME
				}
				e := providers.Existing{Record: records.FromRR(rr)}
				e.Zone = strings.TrimSuffix(z, ".")
				out = append(out, e)
				p.remember(e.Record, rr)
			}
			if r.Rcode == dns.RcodeNameError {
				break // nothing at all at the name
			}
		}
	}
	return out, nil
}

// rdataKey identifies a record by owner, type and data, as the planner
// compares them.
func rdataKey(r records.Record) string {
	v := r.Value
	switch r.Type {
	case records.TypeMX, records.TypeCNAME:
		v = strings.ToLower(dns.Fqdn(v))
	}
	return fmt.Sprintf("%s %s %d %s", strings.ToLower(dns.Fqdn(r.Name)), r.Type, r.Priority, v)
}

func (p *Provider) remember(r records.Record, rr dns.RR) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read[rdataKey(r)] = dns.Copy(rr)
}

// rr returns r as a resource record: as the server sent it when Read saw
// it, else built from r.
func (p *Provider) rr(r records.Record) (dns.RR, error) {
	p.mu.Lock()
	seen, ok := p.read[rdataKey(r)]
	p.mu.Unlock()
	if ok {
		rr := dns.Copy(seen)
		rr.Header().Ttl = r.TTL
		return rr, nil
	}
	return r.RR()
}

// Apply sends the plan's creates, updates and deletes to the server in one
// UPDATE message. Its prerequisites require every RRset the plan changes
// to hold exactly what the plan was made from (RFC 2136 §2.4.2), or not
// to exist (§2.4.3) where the plan saw none, and no CNAME to have appeared
// where records are added; a zone that changed since gives
// providers.ErrChanged and is left as it is. Deletes remove single
// records (class NONE with their data, §2.5.4), never a whole RRset.
func (p *Provider) Apply(ctx context.Context, plan providers.Plan) error {
	if n := len(plan.Conflicts()); n > 0 {
		return fmt.Errorf("%w: the plan for %s has %d conflicts; nothing was sent", providers.ErrConflict, plan.Zone, n)
	}
	if !plan.Pending() {
		return nil
	}
	m, err := p.updateMsg(plan)
	if err != nil {
		return err
	}
	k := p.cfg.Key
	m.SetTsig(k.Name, k.Algorithm, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", Timeout: p.cfg.Timeout, TsigSecret: map[string]string{k.Name: k.Secret}}
	r, _, err := c.ExchangeContext(ctx, m, p.cfg.Server)
	if r == nil {
		if err == nil {
			err = errors.New("no answer")
		}
		return fmt.Errorf("sending the update of zone %s to %s: %w (it may or may not have been applied: read the zone again)", plan.Zone, p.cfg.Server, err)
	}
	return p.answer(plan.Zone, r, err)
}

// updateMsg builds the UPDATE message of plan.
func (p *Provider) updateMsg(plan providers.Plan) (*dns.Msg, error) {
	z := strings.ToLower(dns.Fqdn(plan.Zone))
	m := new(dns.Msg)
	m.SetUpdate(z)

	type rrset struct {
		name string
		typ  string
		held []records.Record
	}
	var order []string
	sets := map[string]*rrset{}
	key := func(r records.Record) string { return strings.ToLower(dns.Fqdn(r.Name)) + " " + r.Type }
	touch := func(r records.Record) {
		k := key(r)
		if sets[k] == nil {
			sets[k] = &rrset{name: strings.ToLower(dns.Fqdn(r.Name)), typ: r.Type}
			order = append(order, k)
		}
	}
	for _, c := range plan.Changes {
		switch c.Action {
		case providers.Create:
			touch(c.New)
		case providers.Update:
			touch(c.Old.Record)
			touch(c.New)
		case providers.Delete:
			touch(c.Old.Record)
		}
	}
	heldKeys := map[string]bool{}
	cnameAt := map[string]bool{}
	for _, c := range plan.Changes {
		if c.Old == nil {
			continue
		}
		if c.Old.Type == records.TypeCNAME {
			cnameAt[strings.ToLower(dns.Fqdn(c.Old.Name))] = true
		}
		if s := sets[key(c.Old.Record)]; s != nil && !heldKeys[rdataKey(c.Old.Record)] {
			heldKeys[rdataKey(c.Old.Record)] = true
			s.held = append(s.held, c.Old.Record)
		}
	}

	// Prerequisites.
	guarded := map[string]bool{}
	for _, k := range order {
		s := sets[k]
		t, ok := dns.StringToType[s.typ]
		if !ok {
			return nil, fmt.Errorf("rfc2136: unknown record type %q", s.typ)
		}
		if len(s.held) == 0 {
			m.RRsetNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: s.name, Rrtype: t}}})
		} else {
			var rrs []dns.RR
			for _, r := range s.held {
				rr, err := p.rr(r)
				if err != nil {
					return nil, fmt.Errorf("rfc2136: %w", err)
				}
				rrs = append(rrs, rr)
			}
			m.Used(rrs)
		}
		// Records added where the plan saw no CNAME: none may have come.
		if t != dns.TypeCNAME && !cnameAt[s.name] && !guarded[s.name] && sets[s.name+" "+records.TypeCNAME] == nil {
			guarded[s.name] = true
			m.RRsetNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: s.name, Rrtype: dns.TypeCNAME}}})
		}
	}

	// Deletes first, so a replaced CNAME or key leaves room for the new one.
	for _, c := range plan.Changes {
		if c.Action == providers.Update || c.Action == providers.Delete {
			rr, err := p.rr(c.Old.Record)
			if err != nil {
				return nil, fmt.Errorf("rfc2136: %w", err)
			}
			m.Remove([]dns.RR{rr})
		}
	}
	for _, c := range plan.Changes {
		if c.Action == providers.Create || c.Action == providers.Update {
			rr, err := c.New.RR()
			if err != nil {
				return nil, fmt.Errorf("rfc2136: %w", err)
			}
			if !dns.IsSubDomain(z, strings.ToLower(rr.Header().Name)) {
				return nil, fmt.Errorf("rfc2136: %s lies outside zone %s", rr.Header().Name, z)
			}
			m.Insert([]dns.RR{rr})
		}
	}
	return m, nil
}

// answer turns the server's answer to an update into an error in words.
func (p *Provider) answer(zone string, r *dns.Msg, verr error) error {
	server, key := p.cfg.Server, p.cfg.Key
	rc := dns.RcodeToString[r.Rcode]
	switch r.Rcode {
	case dns.RcodeSuccess:
		if verr != nil {
			return fmt.Errorf("%s accepted the update of %s, but its answer does not verify with %s (%v): read the zone again to see what it holds", server, zone, key, verr)
		}
		return nil
	case dns.RcodeYXRrset, dns.RcodeNXRrset, dns.RcodeYXDomain, dns.RcodeNameError:
		return fmt.Errorf("%w: %s answered %s: the records are no longer what the plan was made from; nothing was changed: run the plan again", providers.ErrChanged, server, rc)
	case dns.RcodeNotAuth:
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			switch t.Error {
			case dns.RcodeBadSig:
				return fmt.Errorf("%w: %s answered NOTAUTH/BADSIG: the signature made with %s does not verify, so the secret in the key file is not the server's; nothing was changed", ErrAuth, server, key)
			case dns.RcodeBadKey:
				return fmt.Errorf("%w: %s answered NOTAUTH/BADKEY: it knows no %s; check the key name and algorithm in the key file; nothing was changed", ErrAuth, server, key)
			case dns.RcodeBadTime:
				return fmt.Errorf("%w: %s answered NOTAUTH/BADTIME: this machine's clock and the server's differ by more than 5 minutes; nothing was changed", ErrAuth, server)
			}
		}
		return fmt.Errorf("%w: %s answered NOTAUTH: it is not authoritative for %s, or does not accept %s for it; nothing was changed", ErrAuth, server, zone, key)
	case dns.RcodeRefused:
		return fmt.Errorf("%w: %s answered REFUSED: its access control does not let %s update %s (Knot: an acl with action: update and this key, listed in the zone; BIND: allow-update or update-policy); nothing was changed", ErrRefused, server, key, zone)
	case dns.RcodeNotZone:
		return fmt.Errorf("%s answered NOTZONE: a record lies outside zone %s; nothing was changed", server, zone)
	}
	return fmt.Errorf("%s answered %s to the update of %s; nothing was changed", server, rc, zone)
}
