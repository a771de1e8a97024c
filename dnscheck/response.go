package dnscheck

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// Response conditions, as Condition returns them.
const (
	CondAnswer   = "answer"
	CondNXDomain = "nxdomain"
	CondNoData   = "nodata"
	CondServFail = "servfail"
	CondRefused  = "refused"
	CondTimeout  = "timeout"
	CondLame     = "lame"
	CondError    = "error"
)

// maxChain bounds how many CNAMEs of an answer are followed.
const maxChain = 16

// Target returns the end of the CNAME chain in the answer that starts at
// the query name: the name whose records of the query type Values returns.
// It is the query name itself when the answer holds no CNAME for it (or
// the query type is CNAME); on a loop, the name before it repeats. When
// the condition is "answer" but Values is empty, the server gave only the
// chain: look Target up (Resolver.Lookup) to get the records.
func (r Response) Target() string {
	t, _, _ := chain(r)
	return t
}

// chain follows the CNAMEs of the answer from the query name: the last
// name, whether there was any CNAME, and whether the chain loops (or is
// longer than maxChain).
func chain(r Response) (target string, cname, loop bool) {
	name := r.Query.Name
	if r.Query.Type == dns.TypeCNAME {
		return name, false, false
	}
	seen := []string{dns.CanonicalName(name)}
	for {
		next := ""
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, name) {
				next = c.Target
				break
			}
		}
		if next == "" {
			return name, cname, false
		}
		cname = true
		if slices.Contains(seen, dns.CanonicalName(next)) || len(seen) > maxChain {
			return name, true, true
		}
		seen = append(seen, dns.CanonicalName(next))
		name = next
	}
}

// matching returns the answer's records of the query type owned by the
// end of the CNAME chain.
func matching(r Response) []dns.RR {
	if r.Err != nil {
		return nil
	}
	owner, _, loop := chain(r)
	if loop {
		return nil
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		h := rr.Header()
		if h.Rrtype == r.Query.Type && strings.EqualFold(h.Name, owner) {
			out = append(out, rr)
		}
	}
	return out
}

// condition implements Response.Condition:
//   - Err set: "timeout" for ErrTimeout, else "error";
//   - an authoritative server answering without the AA bit (a referral or
//     a recursive answer), or REFUSED from one: "lame";
//   - REFUSED from a resolver: "refused"; SERVFAIL: "servfail";
//   - NXDOMAIN (also at the end of a CNAME chain): "nxdomain";
//   - NOERROR with records of the query type at the end of the CNAME
//     chain: "answer"; with a chain whose target the server neither gave
//     nor denied (no SOA in the authority section): "answer" too, with
//     empty Values (see Target); otherwise "nodata";
//   - a CNAME loop, or any other rcode: "error".
func condition(r Response) string {
	if r.Err != nil {
		if errors.Is(r.Err, ErrTimeout) {
			return CondTimeout
		}
		return CondError
	}
	auth := r.Server.Kind == Authoritative
	switch r.Rcode {
	case dns.RcodeRefused:
		if auth {
			return CondLame
		}
		return CondRefused
	case dns.RcodeServerFailure:
		return CondServFail
	case dns.RcodeSuccess, dns.RcodeNameError:
		if auth && !r.AA {
			return CondLame
		}
		if r.Rcode == dns.RcodeNameError {
			return CondNXDomain
		}
		_, cname, loop := chain(r)
		switch {
		case loop:
			return CondError
		case len(matching(r)) > 0:
			return CondAnswer
		case cname && negativeSOA(r) == nil:
			return CondAnswer
		}
		return CondNoData
	default:
		return CondError
	}
}

// values implements Response.Values: the records of the query type at the
// end of the CNAME chain, as presentation strings, sorted (servers rotate
// RRsets; sorting makes two servers' views comparable):
//   - TXT: the strings of one record joined into one, unquoted, escapes
//     such as \" and \DDD decoded (records.FromRR);
//   - MX: "10 mx.example.com.", sorted by preference then host;
//   - A/AAAA: the address; CNAME/PTR/NS: the target with trailing dot;
//   - SOA: the serial in decimal, the field servers of one zone must agree on;
//   - other types: the record data in presentation format.
func values(r Response) []string {
	rrs := matching(r)
	if len(rrs) == 0 {
		return nil
	}
	if r.Query.Type == dns.TypeMX {
		slices.SortStableFunc(rrs, func(a, b dns.RR) int {
			x, okx := a.(*dns.MX)
			y, oky := b.(*dns.MX)
			if !okx || !oky {
				return 0
			}
			return cmp.Or(cmp.Compare(x.Preference, y.Preference), strings.Compare(strings.ToLower(x.Mx), strings.ToLower(y.Mx)))
		})
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, value(rr))
	}
	if r.Query.Type != dns.TypeMX {
		slices.Sort(out)
	}
	return out
}

func value(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.MX:
		return strconv.Itoa(int(v.Preference)) + " " + v.Mx
	case *dns.NS:
		return v.Ns
	case *dns.SOA:
		return strconv.FormatUint(uint64(v.Serial), 10)
	default:
		return records.FromRR(rr).Value
	}
}

// ttl implements Response.TTL: the smallest TTL of the records Values
// returns; for NXDOMAIN and NODATA, min(SOA TTL, SOA MINIMUM) of the
// authority section (RFC 2308 §5); 0 when unknown.
func ttl(r Response) uint32 {
	if r.Err != nil {
		return 0
	}
	if rrs := matching(r); len(rrs) > 0 {
		t := rrs[0].Header().Ttl
		for _, rr := range rrs[1:] {
			t = min(t, rr.Header().Ttl)
		}
		return t
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return 0
	}
	if soa := negativeSOA(r); soa != nil {
		return min(soa.Hdr.Ttl, soa.Minttl)
	}
	return 0
}

// negativeSOA returns the SOA of the authority section, nil when none.
func negativeSOA(r Response) *dns.SOA {
	for _, rr := range r.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			return s
		}
	}
	return nil
}
