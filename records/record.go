package records

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// ErrRecord means a Record does not make a valid resource record.
var ErrRecord = errors.New("records: invalid resource record")

// Resource record types sendready publishes.
const (
	TypeA     = "A"
	TypeAAAA  = "AAAA"
	TypeMX    = "MX"
	TypeTXT   = "TXT"
	TypeCNAME = "CNAME"
	TypePTR   = "PTR"
)

// Record is one DNS resource record as sendready publishes it.
type Record struct {
	// Zone is the zone the record belongs in: its apex, without the
	// trailing dot ("example.com", "113.0.203.in-addr.arpa").
	Zone string `json:"zone"`
	// Name is the owner, fully qualified with the trailing dot.
	Name string `json:"name"`
	// Type is TypeA, TypeAAAA, TypeMX, TypeTXT, TypeCNAME or TypePTR.
	Type string `json:"type"`
	// TTL in seconds.
	TTL uint32 `json:"ttl"`
	// Value is the record data: for TXT the whole string, unquoted and
	// unsplit; for MX the exchange, for CNAME and PTR the target, each
	// fully qualified with the trailing dot; for A and AAAA the address.
	Value string `json:"value"`
	// Priority is the MX preference; 0 for other types.
	Priority uint16 `json:"priority,omitempty"`
	// Comment says why the record exists, for people; it may hold several
	// lines. It is not part of the record.
	Comment string `json:"-"`
}

// RR returns the record as a miekg/dns resource record, built by parsing
// its zone line, which proves the line parses.
func (r Record) RR() (dns.RR, error) {
	line := r.ZoneLine("")
	rr, err := dns.NewRR(line)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRecord, line, err)
	}
	if rr == nil {
		return nil, fmt.Errorf("%w: empty record %q", ErrRecord, line)
	}
	return rr, nil
}

// ZoneLine formats the record as a zone-file line (RFC 1035 §5.1):
// owner, TTL, class, type and data, tab-separated. The owner is relative
// to origin ("@" for the apex) when it lies inside it, fully qualified
// otherwise or when origin is "". TXT data is split into quoted strings
// of at most 255 bytes; MX data starts with the priority.
func (r Record) ZoneLine(origin string) string {
	owner := r.Name
	if origin != "" {
		o := strings.TrimSuffix(origin, ".") + "."
		n := r.Name
		if !strings.HasSuffix(n, ".") {
			n += "."
		}
		switch {
		case strings.EqualFold(n, o):
			owner = "@"
		case len(n) > len(o) && strings.EqualFold(n[len(n)-len(o)-1:], "."+o):
			owner = n[:len(n)-len(o)-1]
		}
	}
	var data string
	switch r.Type {
	case TypeTXT:
		data = QuoteTXT(SplitTXT(r.Value))
	case TypeMX:
		data = strconv.Itoa(int(r.Priority)) + " " + r.Value
	default:
		data = r.Value
	}
	return owner + "\t" + strconv.FormatUint(uint64(r.TTL), 10) + "\tIN\t" + r.Type + "\t" + data
}

// FromRR converts a miekg/dns resource record (from a zone file or an
// answer) into a Record. Zone and Comment are left empty: an RR does not
// say which zone it came from.
func FromRR(rr dns.RR) Record {
	h := rr.Header()
	r := Record{Name: h.Name, Type: dns.TypeToString[h.Rrtype], TTL: h.Ttl}
	switch v := rr.(type) {
	case *dns.A:
		r.Value = addrString(v.A)
	case *dns.AAAA:
		r.Value = addrString(v.AAAA)
	case *dns.MX:
		r.Value, r.Priority = v.Mx, v.Preference
	case *dns.TXT:
		var b strings.Builder
		for _, s := range v.Txt {
			b.WriteString(unescapeTXT(s))
		}
		r.Value = b.String()
	case *dns.CNAME:
		r.Value = v.Target
	case *dns.PTR:
		r.Value = v.Ptr
	default:
		r.Value = strings.TrimPrefix(rr.String(), h.String())
	}
	return r
}

func addrString(ip []byte) string {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return ""
	}
	if len(ip) == 16 && a.Is4In6() {
		// net.IP keeps IPv4 addresses in 16 bytes.
		return a.Unmap().String()
	}
	return a.String()
}

// ReverseName returns the PTR owner of addr, with the trailing dot:
// "10.113.0.203.in-addr.arpa." or the 32-nibble ip6.arpa name. An IPv4
// address mapped into IPv6 gets its in-addr.arpa name. An invalid addr
// gives "".
func ReverseName(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	s, err := dns.ReverseAddr(addr.Unmap().WithZone("").String())
	if err != nil {
		return ""
	}
	return s
}

// ReverseZone returns the reverse zone that usually holds addr's PTR
// record, without the trailing dot: the /24 for IPv4
// ("113.0.203.in-addr.arpa"), the /64 for IPv6 (16 nibbles of ip6.arpa).
// The real delegation is up to the address owner.
func ReverseZone(addr netip.Addr) string {
	name := ReverseName(addr)
	if name == "" {
		return ""
	}
	labels := 1 // the host octet of a /24
	if addr.Unmap().Is6() {
		labels = 16 // the interface-identifier nibbles of a /64
	}
	parts := strings.Split(strings.TrimSuffix(name, "."), ".")
	return strings.Join(parts[labels:], ".")
}
