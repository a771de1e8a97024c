package answers

import (
	"fmt"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
)

// Problem is one thing wrong (or worth a warning) in an answers file.
type Problem struct {
	Path  string // key path: domains[0].dkim.bits
	Value string // the offending value, if any
	Msg   string // what is wrong
	Fix   string // what to do
}

// String formats the problem for a person:
// domains[0].name: "exa mple.com" is not a domain name: write ... .
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Path)
	b.WriteString(": ")
	if p.Value != "" {
		fmt.Fprintf(&b, "%q ", p.Value)
	}
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" — ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// ValidationError lists every problem found in an answers file.
type ValidationError struct {
	File     string
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s: ", e.File)
	}
	fmt.Fprintf(&b, "%d problem(s) in the answers:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Limits on networks that land in mynetworks and TrustedHosts: anything
// wider relays and signs for too much of the internet.
const (
	maxUpstreamBits4 = 16
	maxUpstreamBits6 = 48
)

type validator struct {
	errs, warns []Problem
}

func (v *validator) fail(path, value, msg, fix string) {
	v.errs = append(v.errs, Problem{Path: path, Value: value, Msg: msg, Fix: fix})
}

func (v *validator) warn(path, value, msg, fix string) {
	v.warns = append(v.warns, Problem{Path: path, Value: value, Msg: msg, Fix: fix})
}

// Validate checks answers that have had Defaults applied. It returns the
// warnings, and a *ValidationError holding every problem when any value is
// refused.
func (a *Answers) Validate() (warnings []Problem, err error) {
	v := &validator{}
	a.validateServer(v)
	a.validateDomains(v)
	a.validateRelay(v)
	a.validateDNS(v)
	if len(v.errs) > 0 {
		return v.warns, &ValidationError{Problems: v.errs}
	}
	return v.warns, nil
}

func (a *Answers) validateServer(v *validator) {
	s := a.Server
	if s.Hostname == "" {
		v.fail("server.hostname", "", "is missing", "write this server's fully qualified name, like mail.example.com")
	} else if msg := hostnameProblem(s.Hostname); msg != "" {
		v.fail("server.hostname", s.Hostname, msg, "write a fully qualified name, like mail.example.com: it is the HELO name, the A record and the PTR target")
	}
	for i, ip := range s.IPv4 {
		a.checkSendingIP(v, fmt.Sprintf("server.ipv4[%d]", i), ip, true)
	}
	for i, ip := range s.IPv6 {
		a.checkSendingIP(v, fmt.Sprintf("server.ipv6[%d]", i), ip, false)
	}
	if len(s.IPv4)+len(s.IPv6) == 0 {
		v.fail("server.ipv4", "", "is empty, and so is server.ipv6", "list the public address(es) mail leaves from: they go into SPF and need a PTR")
	}
	seen := map[string]bool{}
	for i, ip := range append(append([]string{}, s.IPv4...), s.IPv6...) {
		if seen[ip] {
			v.fail("server", ip, fmt.Sprintf("lists this address twice (entry %d)", i), "remove the duplicate")
		}
		seen[ip] = true
	}
	if s.Distro != DistroDebian && s.Distro != DistroRHEL {
		v.fail("server.distro", s.Distro, "is not a supported distribution", "write debian (also Ubuntu) or rhel (also CentOS, Rocky, Alma)")
	}
}

func (a *Answers) checkSendingIP(v *validator, path, s string, want4 bool) {
	ip, err := netip.ParseAddr(strings.TrimSpace(s))
	family, fix := "IPv6", "write an IPv6 address like 2001:db8::25, or move it to server.ipv4"
	if want4 {
		family, fix = "IPv4", "write an IPv4 address like 203.0.113.10, or move it to server.ipv6"
	}
	if err != nil || ip.Zone() != "" || ip.Is4() != want4 || ip.Is4In6() {
		v.fail(path, s, "is not an "+family+" address", fix)
		return
	}
	if kind := nonPublic(ip); kind != "" && !a.Relay.AllowPrivate {
		v.fail(path, s, "is a "+kind+" address, not a public sending address",
			"list the public address mail leaves from (behind NAT: the router's public address); for a lab, set relay.allow_private: true")
	}
}

// nonPublic names why ip cannot be a public sending address, or "".
func nonPublic(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast():
		return "multicast"
	case ip.IsPrivate():
		return "private"
	case netip.MustParsePrefix("100.64.0.0/10").Contains(ip):
		return "carrier-grade NAT (shared)"
	}
	return ""
}

func (a *Answers) validateDomains(v *validator) {
	if len(a.Domains) == 0 {
		v.fail("domains", "", "is empty", "list at least one domain this server sends for, like `- name: example.com`")
	}
	seen := map[string]int{}
	for i, d := range a.Domains {
		p := fmt.Sprintf("domains[%d]", i)
		if d.Name == "" {
			v.fail(p+".name", "", "is missing", "write the domain, like example.com")
		} else if msg := domainProblem(d.Name); msg != "" {
			v.fail(p+".name", d.Name, msg, "write a domain like example.com (letters, digits, hyphens and dots)")
		} else if j, dup := seen[d.Name]; dup {
			v.fail(p+".name", d.Name, fmt.Sprintf("is listed twice (also domains[%d])", j), "keep one entry per domain")
		}
		seen[d.Name] = i
		a.validateDKIM(v, p+".dkim", d)
		validateDMARC(v, p+".dmarc", d)
		for j, mx := range d.MX {
			if msg := hostnameProblem(mx); msg != "" {
				v.fail(fmt.Sprintf("%s.mx[%d]", p, j), mx, msg, "write the mail exchanger's host name, like mail.example.com")
			}
		}
		for j, m := range d.SPF {
			if msg := spfMechanismProblem(m); msg != "" {
				v.fail(fmt.Sprintf("%s.spf[%d]", p, j), m, msg, "write one SPF mechanism such as ip4:192.0.2.5, ip6:2001:db8::/48 or include:_spf.example.net")
			}
		}
	}
}

func (a *Answers) validateDKIM(v *validator, p string, d Domain) {
	k := d.DKIM
	if msg := selectorProblem(k.Selector); msg != "" {
		v.fail(p+".selector", k.Selector, msg, "use letters, digits and hyphens, like 202611 (the default is the year and month)")
	}
	switch k.Algorithm {
	case AlgRSA, AlgBoth:
	case AlgEd25519:
		v.fail(p+".algorithm", k.Algorithm, "alone is refused: many receivers do not verify ed25519 signatures and would see the mail as unsigned",
			"write both (an RSA key plus an ed25519 key), or rsa")
	default:
		v.fail(p+".algorithm", k.Algorithm, "is not a DKIM algorithm", "write rsa (recommended) or both")
	}
	if k.Algorithm == AlgRSA || k.Algorithm == AlgBoth {
		switch k.Bits {
		case 2048, 3072:
		case 1024:
			v.warn(p+".bits", "1024", "is weak: receivers may treat 1024-bit keys as unsigned in future", "use 2048")
		case 4096:
			v.warn(p+".bits", "4096", "makes a TXT record over 512 bytes that some DNS providers and resolvers handle badly", "2048 is the usual choice")
		default:
			v.fail(p+".bits", strconv.Itoa(k.Bits), "is not a supported RSA key size", "write 2048 (or 1024, 3072, 4096)")
		}
	}
	if k.PublicKey != "" && k.Algorithm == AlgBoth {
		v.fail(p+".public_key", "", "cannot be combined with algorithm both (one public key, two selectors)",
			"set algorithm to rsa for an externally held key")
	}
}

func validateDMARC(v *validator, p string, d Domain) {
	m := d.DMARC
	if !isPolicy(m.Policy) {
		v.fail(p+".policy", m.Policy, "is not a DMARC policy", "write none (start here and read the reports), quarantine or reject")
	} else if m.Policy == "none" {
		v.warn(p+".policy", "none", "only monitors: receivers still accept failing mail",
			"once the reports show all your mail passing, move to quarantine, then reject")
	}
	if m.SubdomainPolicy != "" && !isPolicy(m.SubdomainPolicy) {
		v.fail(p+".subdomain_policy", m.SubdomainPolicy, "is not a DMARC policy", "write none, quarantine or reject, or leave it out")
	}
	if m.Pct < 0 || m.Pct > 100 {
		v.fail(p+".pct", strconv.Itoa(m.Pct), "is not a percentage", "write a number from 1 to 100, or leave it out for 100")
	}
	for key, val := range map[string]string{"rua": m.RUA, "ruf": m.RUF} {
		if val == "" {
			continue
		}
		for _, u := range strings.Split(val, ",") {
			if msg := mailtoProblem(strings.TrimSpace(u)); msg != "" {
				v.fail(p+"."+key, u, msg, "write mailto:dmarc@"+d.Name+" (several: separate with commas)")
			}
		}
	}
}

func isPolicy(s string) bool { return s == "none" || s == "quarantine" || s == "reject" }

func mailtoProblem(u string) string {
	addr, ok := strings.CutPrefix(u, "mailto:")
	if !ok {
		return "is not a mailto: URI"
	}
	addr, _, _ = strings.Cut(addr, "!") // optional size limit: mailto:a@b!10m
	if _, err := mail.ParseAddress(addr); err != nil || !strings.Contains(addr, "@") {
		return "does not hold a mail address after mailto:"
	}
	return ""
}

func (a *Answers) validateRelay(v *validator) {
	r := a.Relay
	switch r.Mode {
	case ModeDirect:
	case ModeOffice365Connect:
		o := r.Office365
		if msg := hostnameProblem(o.SmartHost); msg != "" {
			v.fail("relay.office365.smart_host", o.SmartHost, msg, "copy the smart host from the Microsoft 365 admin centre, like example-com.mail.protection.outlook.com")
		} else if !strings.HasSuffix(o.SmartHost, ".mail.protection.outlook.com") && !strings.HasSuffix(o.SmartHost, ".mx.microsoft") {
			v.warn("relay.office365.smart_host", o.SmartHost, "is not a Microsoft endpoint (*.mail.protection.outlook.com or *.mx.microsoft)", "copy it from the Microsoft 365 admin centre")
		}
		switch o.ConnectorAuth {
		case ConnectorIP:
			if len(a.Server.IPv4) == 0 {
				v.fail("server.ipv4", "", "is empty, but an Office 365 connector by IP accepts IPv4 addresses only",
					"list the server's public IPv4 address, or use connector_auth: certificate")
			}
			if len(a.Server.IPv6) > 0 {
				v.fail("server.ipv6", strings.Join(a.Server.IPv6, ", "), "cannot go into an Office 365 connector: Microsoft accepts IPv4 addresses only there, and Postfix relays to Microsoft over IPv4",
					"remove the IPv6 addresses (this server sends only to Office 365), or use connector_auth: certificate")
			}
			if len(a.Server.IPv4) > 1 {
				v.warn("server.ipv4", strings.Join(a.Server.IPv4, ", "), "has several addresses: every one must be in the connector's -SenderIPAddresses", "the generated connector.ps1 lists them all")
			}
		case ConnectorCertificate:
			c := o.Certificate
			if c.CertFile == "" || c.KeyFile == "" {
				v.fail("relay.office365.certificate", "", "needs cert_file and key_file for a certificate connector",
					"give the paths of the certificate (full chain, from a public CA) and its key that Postfix presents")
			}
			if msg := hostnameProblem(strings.TrimPrefix(c.Name, "*.")); c.Name == "" || msg != "" {
				v.fail("relay.office365.certificate.name", c.Name, "is not a certificate subject name",
					"write the name on the certificate (e.g. mail.example.com); it must be one of your accepted domains in Microsoft 365")
			}
		default:
			v.fail("relay.office365.connector_auth", o.ConnectorAuth, "is not a connector authentication", "write ip or certificate")
		}
		if len(a.Server.IPv6) > 0 && o.ConnectorAuth == ConnectorCertificate {
			v.warn("server.ipv6", strings.Join(a.Server.IPv6, ", "), "is not used towards Office 365: Postfix is told to prefer IPv4 there", "")
		}
	case ModeOffice365SMTPAuth:
		u := r.Office365.Username
		if _, err := mail.ParseAddress(u); u == "" || err != nil {
			v.fail("relay.office365.username", u, "is not a mailbox address", "write the licensed mailbox Postfix logs in as, like relay@example.com")
		}
		if r.Office365.MessagesPerMinute < 0 {
			v.fail("relay.office365.messages_per_minute", strconv.Itoa(r.Office365.MessagesPerMinute), "is negative", "write 30 (Microsoft's per-mailbox limit) or leave it out")
		}
		v.warn("relay.mode", ModeOffice365SMTPAuth, "uses Basic-auth SMTP AUTH, which Microsoft is turning off (default-off from the end of 2026); it needs SMTP AUTH enabled on the mailbox and does not work with Security Defaults",
			"prefer office365-connector")
	case ModeSmarthost:
		s := r.Smarthost
		if s.Host == "" {
			v.fail("relay.smarthost.host", "", "is missing", "write the relay's host name, like relay.example.net")
		} else if _, err := netip.ParseAddr(s.Host); err != nil {
			if msg := hostnameProblem(s.Host); msg != "" {
				v.fail("relay.smarthost.host", s.Host, msg, "write the relay's host name, like relay.example.net")
			}
		}
		if s.Port < 1 || s.Port > 65535 {
			v.fail("relay.smarthost.port", strconv.Itoa(s.Port), "is not a TCP port", "write 587 (submission), 465 or 25")
		}
		for i, d := range s.Destinations {
			if msg := domainProblem(strings.TrimPrefix(d, ".")); msg != "" {
				v.fail(fmt.Sprintf("relay.smarthost.destinations[%d]", i), d, msg, "write a recipient domain, like example.org")
			}
		}
		for i, m := range s.SPF {
			if msg := spfMechanismProblem(m); msg != "" {
				v.fail(fmt.Sprintf("relay.smarthost.spf[%d]", i), m, msg, "write the relay's SPF mechanism, like include:_spf.relay.example.net")
			}
		}
	default:
		v.fail("relay.mode", r.Mode, "is not a relay mode", "write direct, office365-connector, office365-smtp-auth or smarthost")
	}
	for i, n := range r.Upstream.Networks {
		p := fmt.Sprintf("relay.upstream.networks[%d]", i)
		pfx, err := parsePrefix(n)
		if err != nil {
			v.fail(p, n, "is not an address or network", "write an address like 198.51.100.7 or a network like 198.51.100.0/24")
			continue
		}
		if pfx.Bits() == 0 {
			v.fail(p, n, "lets every host on the internet relay through this server and get its mail signed (an open relay)",
				"list the upstream servers' addresses; for upstreams with changing addresses set relay.upstream.sasl: true so they log in instead")
			continue
		}
		if pfx.Addr().Is4() && pfx.Bits() < maxUpstreamBits4 || pfx.Addr().Is6() && pfx.Bits() < maxUpstreamBits6 {
			v.fail(p, n, fmt.Sprintf("is wider than an IPv4 /%d or IPv6 /%d: everyone in it could relay and get mail signed", maxUpstreamBits4, maxUpstreamBits6),
				"list the upstream servers' own addresses, or set relay.upstream.sasl: true so they log in")
		}
	}
}

func (a *Answers) validateDNS(v *validator) {
	d := a.DNS
	switch d.Provider {
	case ProviderManual, ProviderCloudflare, ProviderRFC2136:
	default:
		v.fail("dns.provider", d.Provider, "is not a DNS provider", "write manual, cloudflare or rfc2136")
	}
	if d.TTL < 60 || d.TTL > 604800 {
		v.fail("dns.ttl", strconv.Itoa(d.TTL), "is not a usable TTL", "write seconds between 60 and 604800; 3600 is usual, 300 while migrating")
	}
	if s := d.RFC2136.Server; s != "" {
		if _, err := netip.ParseAddrPort(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				v.fail("dns.rfc2136.server", s, "is not an address[:port]", "write the primary server's address, like 192.0.2.53:53")
			}
		}
	}
}

// hostnameProblem says why s is not a fully qualified host name, or "".
func hostnameProblem(s string) string {
	if msg := domainProblem(s); msg != "" {
		return msg
	}
	if !strings.Contains(s, ".") {
		return "is not fully qualified (it has no dot)"
	}
	return ""
}

// domainProblem says why s is not a domain name (LDH labels), or "".
func domainProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	if len(s) > 253 {
		return "is longer than 253 characters"
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "is an IP address, not a name"
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if msg := labelProblem(l); msg != "" {
			return "is not a domain name (" + msg + ")"
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "is not a domain name (the last label is all digits)"
	}
	return ""
}

func labelProblem(l string) string {
	switch {
	case l == "":
		return "an empty label"
	case len(l) > 63:
		return "a label longer than 63 characters"
	case l[0] == '-' || l[len(l)-1] == '-':
		return "a label starts or ends with a hyphen"
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Sprintf("%q is not allowed", c)
		}
	}
	return ""
}

// selectorProblem checks a DKIM selector (RFC 6376 §3.1: sub-domain syntax).
func selectorProblem(s string) string {
	if s == "" {
		return "is empty"
	}
	for _, l := range strings.Split(s, ".") {
		if msg := labelProblem(l); msg != "" {
			return "is not a selector (" + msg + ")"
		}
	}
	return ""
}

// spfMechanismProblem checks one extra SPF mechanism from the answers.
// Full syntax checking happens when the record is built.
func spfMechanismProblem(m string) string {
	m = strings.TrimSpace(m)
	if m == "" {
		return "is empty"
	}
	bare := strings.TrimLeft(m, "+-~?")
	name, arg, _ := strings.Cut(bare, ":")
	switch strings.ToLower(name) {
	case "all", "+all":
		return "is an all mechanism: sendready adds ~all itself"
	case "ip4", "ip6":
		if _, err := parsePrefix(arg); err != nil {
			return "does not hold an address or network after " + name + ":"
		}
	case "a", "mx", "include", "exists", "ptr":
		if name == "a" || name == "mx" {
			if _, err := netip.ParseAddr(strings.Split(arg, "/")[0]); err == nil && arg != "" {
				return "gives an address to " + name + ": (which takes a domain); use ip4: or ip6:"
			}
		}
		if (name == "include" || name == "exists") && arg == "" {
			return "needs a domain after " + name + ":"
		}
	default:
		if strings.HasPrefix(strings.ToLower(bare), "redirect=") {
			return "is a redirect modifier, which would replace the whole record"
		}
		return "is not an SPF mechanism"
	}
	return ""
}
