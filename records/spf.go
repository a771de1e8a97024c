package records

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// SPF errors. Parse errors wrap ErrSPFSyntax and name the bad term.
var (
	// ErrNotSPF means the value does not start with "v=spf1": it is some
	// other TXT record.
	ErrNotSPF = errors.New("records: not an SPF record (does not start with v=spf1)")
	// ErrSPFSyntax means a v=spf1 record breaks RFC 7208 syntax; receivers
	// treat it as a permerror and every message fails SPF.
	ErrSPFSyntax = errors.New("records: invalid SPF record")
)

// MaxSPFLookups is the limit of DNS-querying terms an SPF evaluation may
// use, includes and redirects followed (RFC 7208 §4.6.4).
const MaxSPFLookups = 10

// Qualifier is the result an SPF mechanism gives when it matches (RFC 7208
// §4.6.2).
type Qualifier string

// SPF qualifiers. A mechanism written without one has Qualifier "", which
// means Pass.
const (
	Pass     Qualifier = "+"
	Fail     Qualifier = "-"
	SoftFail Qualifier = "~"
	Neutral  Qualifier = "?"
)

// SPF mechanism names (RFC 7208 §5).
const (
	MechAll     = "all"
	MechInclude = "include"
	MechA       = "a"
	MechMX      = "mx"
	MechPTR     = "ptr"
	MechIP4     = "ip4"
	MechIP6     = "ip6"
	MechExists  = "exists"
)

// SPF modifier names with a meaning (RFC 7208 §6); others are kept and
// ignored.
const (
	ModRedirect = "redirect"
	ModExp      = "exp"
)

// SPF is a parsed SPF record (RFC 7208 §4.5, §12): version spf1, then its
// terms in order.
type SPF struct {
	// Terms are the mechanisms and modifiers after "v=spf1", in order.
	Terms []SPFTerm
}

// SPFTerm is one mechanism (Mechanism set) or modifier (Modifier set) of
// an SPF record (RFC 7208 §4.6.1). The struct is comparable with ==.
type SPFTerm struct {
	// Qualifier of a mechanism; "" when not written, which means Pass.
	Qualifier Qualifier
	// Mechanism is the lower-case mechanism name (MechAll ... MechExists),
	// or "" for a modifier.
	Mechanism string
	// Domain is the domain-spec of include and exists (required) and of
	// a, mx and ptr (optional: "" means the current domain).
	Domain string
	// Net is the network of ip4 and ip6. A length equal to the address
	// size (/32, /128) is written without "/length".
	Net netip.Prefix
	// CIDR4 and CIDR6 are the dual-cidr-length of a and mx (RFC 7208
	// §5.6); 0 means not written. An explicit /0 is refused by ParseSPF:
	// it would match every address.
	CIDR4, CIDR6 int
	// Modifier is the modifier name, lower-case for ModRedirect and
	// ModExp; "" for a mechanism.
	Modifier string
	// Value is a modifier's value: the domain-spec of redirect and exp,
	// the macro-string of others.
	Value string
}

// IPTerm returns the ip4: or ip6: mechanism that matches addr alone.
func IPTerm(addr netip.Addr) SPFTerm {
	addr = addr.Unmap()
	if addr.Is4() {
		return SPFTerm{Mechanism: MechIP4, Net: netip.PrefixFrom(addr, 32)}
	}
	return SPFTerm{Mechanism: MechIP6, Net: netip.PrefixFrom(addr.WithZone(""), 128)}
}

// IncludeTerm returns the include:domain mechanism.
func IncludeTerm(domain string) SPFTerm {
	return SPFTerm{Mechanism: MechInclude, Domain: domain}
}

// ATerm returns the a mechanism: "a" for the current domain when domain is
// empty, else "a:domain".
func ATerm(domain string) SPFTerm {
	return SPFTerm{Mechanism: MechA, Domain: domain}
}

// AllTerm returns the all mechanism with qualifier q ("~all" for SoftFail).
func AllTerm(q Qualifier) SPFTerm {
	return SPFTerm{Qualifier: q, Mechanism: MechAll}
}

// NewSPF builds a record from terms and checks it as ParseSPF would, so
// that what is built is also what receivers will read.
func NewSPF(terms ...SPFTerm) (SPF, error) {
	s := SPF{Terms: terms}
	if _, err := ParseSPF(s.String()); err != nil {
		return SPF{}, err
	}
	return s, nil
}

// String formats the record as published: "v=spf1" and the terms,
// separated by single spaces.
func (s SPF) String() string {
	var b strings.Builder
	b.WriteString("v=spf1")
	for _, t := range s.Terms {
		b.WriteByte(' ')
		b.WriteString(t.String())
	}
	return b.String()
}

// String formats the term as written in a record.
func (t SPFTerm) String() string {
	if t.Mechanism == "" {
		return t.Modifier + "=" + t.Value
	}
	s := string(t.Qualifier) + t.Mechanism
	switch t.Mechanism {
	case MechIP4, MechIP6:
		s += ":" + t.Net.Addr().String()
		if t.Net.Bits() != t.Net.Addr().BitLen() {
			s += "/" + strconv.Itoa(t.Net.Bits())
		}
	default:
		if t.Domain != "" {
			s += ":" + t.Domain
		}
		if t.CIDR4 != 0 {
			s += "/" + strconv.Itoa(t.CIDR4)
		}
		if t.CIDR6 != 0 {
			s += "//" + strconv.Itoa(t.CIDR6)
		}
	}
	return s
}

// LookupTerms counts the terms of this record that cost a DNS lookup
// (include, a, mx, ptr, exists and redirect; RFC 7208 §4.6.4). The lookups
// of included and redirected records come on top; the limit over all of
// them is MaxSPFLookups.
func (s SPF) LookupTerms() int {
	n := 0
	for _, t := range s.Terms {
		switch t.Mechanism {
		case MechInclude, MechA, MechMX, MechPTR, MechExists:
			n++
		case "":
			if t.Modifier == ModRedirect {
				n++
			}
		}
	}
	return n
}

// Includes returns the domain-specs of the include mechanisms, in order.
func (s SPF) Includes() []string {
	var out []string
	for _, t := range s.Terms {
		if t.Mechanism == MechInclude {
			out = append(out, t.Domain)
		}
	}
	return out
}

// Redirect returns the redirect= target, or "" when there is none.
func (s SPF) Redirect() string { return s.modifier(ModRedirect) }

// Exp returns the exp= domain, or "" when there is none.
func (s SPF) Exp() string { return s.modifier(ModExp) }

func (s SPF) modifier(name string) string {
	for _, t := range s.Terms {
		if t.Mechanism == "" && t.Modifier == name {
			return t.Value
		}
	}
	return ""
}

// HasPassAll reports whether the record has "all" or "+all": every host on
// the Internet may then send as the domain.
func (s SPF) HasPassAll() bool {
	for _, t := range s.Terms {
		if t.Mechanism == MechAll && (t.Qualifier == "" || t.Qualifier == Pass) {
			return true
		}
	}
	return false
}

// ParseSPF parses an SPF record with the strict syntax of RFC 7208 §12.
// A value that does not start with "v=spf1" gives ErrNotSPF; a syntax
// error wraps ErrSPFSyntax and names the bad term.
func ParseSPF(s string) (SPF, error) {
	rest, ok := cutVersion(s)
	if !ok {
		return SPF{}, ErrNotSPF
	}
	var rec SPF
	seen := map[string]bool{}
	for _, field := range strings.Split(rest, " ") {
		if field == "" {
			continue
		}
		t, err := ParseSPFTerm(field)
		if err != nil {
			return SPF{}, err
		}
		if t.Modifier == ModRedirect || t.Modifier == ModExp {
			if seen[t.Modifier] {
				return SPF{}, fmt.Errorf("%w: %q: %s= may appear only once (RFC 7208 §6)", ErrSPFSyntax, clip(field), t.Modifier)
			}
			seen[t.Modifier] = true
		}
		rec.Terms = append(rec.Terms, t)
	}
	return rec, nil
}

// cutVersion returns what follows "v=spf1" (case-insensitive) and a space,
// and whether s starts so.
func cutVersion(s string) (string, bool) {
	const v = "v=spf1"
	if len(s) < len(v) || !strings.EqualFold(s[:len(v)], v) {
		return "", false
	}
	rest := s[len(v):]
	if rest != "" && rest[0] != ' ' {
		return "", false
	}
	return rest, true
}

var (
	modifierName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]*$`)
	cidrSuffix   = regexp.MustCompile(`(?s)^(.*?)((?:/[0-9]+)?(?://[0-9]+)?)$`)
	cidr4        = regexp.MustCompile(`^(0|[1-9][0-9]?)$`)
	cidr6        = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})$`)
)

// ParseSPFTerm parses one mechanism or modifier, such as "ip4:192.0.2.0/24",
// "-all" or "redirect=_spf.example.com". Errors wrap ErrSPFSyntax.
func ParseSPFTerm(field string) (SPFTerm, error) {
	bad := func(format string, args ...any) (SPFTerm, error) {
		return SPFTerm{}, fmt.Errorf("%w: %q: %s", ErrSPFSyntax, clip(field), fmt.Sprintf(format, args...))
	}
	if field == "" {
		return bad("empty term")
	}
	// A modifier is name=value, with the "=" before any ":" or "/".
	if i := strings.IndexAny(field, "=:/"); i > 0 && field[i] == '=' {
		name, value := field[:i], field[i+1:]
		if !modifierName.MatchString(name) {
			return bad("bad modifier name %q", name)
		}
		t := SPFTerm{Modifier: name, Value: value}
		switch lower := strings.ToLower(name); lower {
		case ModRedirect, ModExp:
			t.Modifier = lower
			if err := checkDomainSpec(value); err != nil {
				return bad("%s= %v", lower, err)
			}
		default:
			if err := checkMacroString(value); err != nil {
				return bad("%v", err)
			}
		}
		return t, nil
	}

	var t SPFTerm
	rest := field
	switch Qualifier(rest[:1]) {
	case Pass, Fail, SoftFail, Neutral:
		t.Qualifier = Qualifier(rest[:1])
		rest = rest[1:]
	}
	name := rest
	if i := strings.IndexAny(rest, ":/"); i >= 0 {
		name, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	t.Mechanism = strings.ToLower(name)
	switch t.Mechanism {
	case MechAll:
		if rest != "" {
			return bad("all takes no argument")
		}
	case MechInclude, MechExists:
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return bad("%s needs a domain: %s:example.com", t.Mechanism, t.Mechanism)
		}
		t.Domain = rest[1:]
		if err := checkDomainSpec(t.Domain); err != nil {
			return bad("%v", err)
		}
	case MechPTR:
		if rest != "" {
			if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
				return bad("ptr takes only an optional :domain")
			}
			t.Domain = rest[1:]
			if err := checkDomainSpec(t.Domain); err != nil {
				return bad("%v", err)
			}
		}
	case MechA, MechMX:
		m := cidrSuffix.FindStringSubmatch(rest)
		spec, cidr := m[1], m[2]
		if spec != "" {
			if !strings.HasPrefix(spec, ":") || len(spec) == 1 {
				return bad("expected %s, %s:domain or %s/length", t.Mechanism, t.Mechanism, t.Mechanism)
			}
			t.Domain = spec[1:]
			if err := checkDomainSpec(t.Domain); err != nil {
				if ip, perr := netip.ParseAddr(strings.SplitN(t.Domain, "/", 2)[0]); perr == nil {
					mech := MechIP4
					if ip.Is6() {
						mech = MechIP6
					}
					return bad("%s: takes a domain name, not an IP address: use %s:%s", t.Mechanism, mech, ip)
				}
				return bad("%v", err)
			}
		}
		if cidr != "" {
			v4, v6, _ := strings.Cut(cidr[1:], "//")
			if strings.HasPrefix(cidr, "//") {
				v4, v6 = "", cidr[2:]
			}
			if v4 != "" {
				n, err := cidrLen(v4, cidr4, 32)
				if err != nil {
					return bad("%v", err)
				}
				t.CIDR4 = n
			}
			if v6 != "" {
				n, err := cidrLen(v6, cidr6, 128)
				if err != nil {
					return bad("%v", err)
				}
				t.CIDR6 = n
			}
			if t.CIDR4 == 0 && v4 != "" || t.CIDR6 == 0 && v6 != "" {
				return bad("a length of /0 matches every address on the Internet")
			}
		}
	case MechIP4, MechIP6:
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return bad("%s needs an address: %s:%s", t.Mechanism, t.Mechanism, map[string]string{MechIP4: "192.0.2.1", MechIP6: "2001:db8::1"}[t.Mechanism])
		}
		addrStr, length, hasLen := strings.Cut(rest[1:], "/")
		addr, err := netip.ParseAddr(addrStr)
		if err != nil || addr.Zone() != "" {
			return bad("%q is not an IP address", addrStr)
		}
		bits, re := 32, cidr4
		if t.Mechanism == MechIP4 {
			if !addr.Is4() {
				return bad("%s is not an IPv4 address: use ip6:", addrStr)
			}
		} else {
			bits, re = 128, cidr6
			if !addr.Is6() {
				return bad("%s is not an IPv6 address: use ip4:", addrStr)
			}
		}
		if hasLen {
			n, err := cidrLen(length, re, bits)
			if err != nil {
				return bad("%v", err)
			}
			bits = n
		}
		t.Net = netip.PrefixFrom(addr, bits)
	case "":
		return bad("missing mechanism after the qualifier")
	default:
		return bad("unknown mechanism %q", name)
	}
	return t, nil
}

func cidrLen(s string, re *regexp.Regexp, max int) (int, error) {
	if !re.MatchString(s) {
		return 0, fmt.Errorf("bad prefix length /%s", s)
	}
	n, _ := strconv.Atoi(s)
	if n > max {
		return 0, fmt.Errorf("prefix length /%d is more than %d", n, max)
	}
	return n, nil
}

// checkDomainSpec checks a domain-spec (RFC 7208 §7.1): a macro-string
// ending in a top label or in a macro.
func checkDomainSpec(s string) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return fmt.Errorf("%s is an IP address, not a domain name", ip)
	}
	endsInMacro, err := scanMacroString(s, false)
	if err != nil {
		return err
	}
	if endsInMacro {
		return nil
	}
	d := strings.TrimSuffix(s, ".")
	i := strings.LastIndexByte(d, '.')
	if i < 0 {
		return fmt.Errorf("%q is not a fully qualified domain name", clip(s))
	}
	if !isTopLabel(d[i+1:]) {
		return fmt.Errorf("%q does not end in a valid top-level label", clip(s))
	}
	return nil
}

// checkMacroString checks the value of an unknown modifier.
func checkMacroString(s string) error {
	_, err := scanMacroString(s, true)
	return err
}

// scanMacroString walks a macro-string (RFC 7208 §7.1) and reports
// whether it ends in a macro-expand. The c, r and t macros belong to
// explanation strings only and are allowed when anyLetter is set.
func scanMacroString(s string, anyLetter bool) (bool, error) {
	endsInMacro := false
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			if c < 0x21 || c > 0x7e {
				return false, fmt.Errorf("character %q not allowed", c)
			}
			endsInMacro = false
			i++
			continue
		}
		if i+1 >= len(s) {
			return false, errors.New(`lone "%" at the end (write "%%" for a percent sign)`)
		}
		switch s[i+1] {
		case '%', '_', '-':
			i += 2
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return false, errors.New(`unterminated macro "%{"`)
			}
			body := s[i+2 : i+end]
			letters := "slodiphv"
			if anyLetter {
				letters += "crt"
			}
			if body == "" || !strings.ContainsRune(letters, rune(lowerASCII(body[0]))) {
				return false, fmt.Errorf("unknown macro %q", s[i:i+end+1])
			}
			j := 1
			for j < len(body) && isDigit(body[j]) {
				j++
			}
			if j < len(body) && lowerASCII(body[j]) == 'r' {
				j++
			}
			for ; j < len(body); j++ {
				if !strings.ContainsRune(".-+,/_=", rune(body[j])) {
					return false, fmt.Errorf("bad macro %q", s[i:i+end+1])
				}
			}
			i += end + 1
		default:
			return false, fmt.Errorf(`bad macro "%%%c" (write "%%%%" for a percent sign)`, s[i+1])
		}
		endsInMacro = true
	}
	return endsInMacro, nil
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// isTopLabel checks toplabel (RFC 7208 §7.1): alphanumerics with at least
// one letter, or alphanumerics and inner hyphens.
func isTopLabel(l string) bool {
	if l == "" {
		return false
	}
	alpha, hyphen := false, false
	for i := 0; i < len(l); i++ {
		c := lowerASCII(l[i])
		switch {
		case c >= 'a' && c <= 'z':
			alpha = true
		case isDigit(c):
		case c == '-':
			hyphen = true
		default:
			return false
		}
	}
	if hyphen {
		return l[0] != '-' && l[len(l)-1] != '-'
	}
	return alpha
}

// clip shortens s for an error message: a 64 KiB term must not become a
// 64 KiB message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
