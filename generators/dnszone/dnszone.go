// Package dnszone generates the DNS records a sendready mail server needs
// (MX, SPF, DKIM, DMARC, Office 365 DKIM CNAMEs, the host's A/AAAA and
// HELO SPF) and the PTR requests for its addresses, and renders them as
// zone-file fragments, paste-ready listings for web interfaces and JSON.
// It is pure: every value comes from package records.
package dnszone

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/records"
)

// ErrTooManyLookups means a domain's SPF record needs more DNS lookups
// than receivers allow.
var ErrTooManyLookups = errors.New("dnszone: SPF record needs too many DNS lookups")

// zone is one zone sendready writes records for, with what the files say
// about it besides the records.
type zone struct {
	name    string   // apex, no trailing dot
	guessed bool     // the server hostname's zone, guessed from the name
	notes   []string // paragraphs for the header and the listing
	// o365NoCNAMEs is set for an answers domain in an Office 365 mode
	// without relay.office365.dkim_cnames.
	o365NoCNAMEs bool
}

// plan is everything Files renders.
type plan struct {
	recs  []records.Record // in publishing order, PTR requests last
	zones []zone           // answers domains in order, then the host's zone
	addrs []netip.Addr     // the server's addresses, in the PTR requests' order
}

// Records returns every record for in: per domain (answers order) its MX,
// SPF, DKIM, DMARC and Office 365 DKIM CNAMEs, then the server hostname's
// A, AAAA and HELO SPF, then one PTR request per address (Zone is the
// reverse zone; the address owner sets them, not the DNS provider).
func Records(in generators.Input) ([]records.Record, error) {
	p, err := build(in)
	if err != nil {
		return nil, err
	}
	return p.recs, nil
}

func build(in generators.Input) (*plan, error) {
	a := in.Answers
	if a == nil {
		return nil, errors.New("dnszone: no answers")
	}
	host := a.Server.Hostname
	if host == "" {
		return nil, errors.New("dnszone: server.hostname is empty: set the server's fully qualified name")
	}
	if a.DNS.TTL <= 0 || a.DNS.TTL > 1<<31-1 {
		return nil, fmt.Errorf("dnszone: dns.ttl %d is out of range: use seconds, such as 3600", a.DNS.TTL)
	}
	ttl := uint32(a.DNS.TTL)
	p := &plan{}
	seen := map[string]bool{}
	for i, d := range a.Domains {
		if seen[d.Name] {
			return nil, fmt.Errorf("dnszone: domains[%d]: %s is listed twice", i, d.Name)
		}
		seen[d.Name] = true
		recs, z, err := domainRecords(in, i, ttl)
		if err != nil {
			return nil, err
		}
		p.recs = append(p.recs, recs...)
		p.zones = append(p.zones, z)
	}

	hz, guessed := hostZone(a)
	if !seen[hz] {
		z := zone{name: hz, guessed: guessed}
		if guessed {
			z.notes = append(z.notes, fmt.Sprintf("The zone %s was guessed: it is %s without its first label, because %s lies under none of the mail domains. If your DNS provider holds the name in another zone, create the records there.", hz, host, host))
		}
		p.zones = append(p.zones, z)
	}
	p.addrs = serverAddrs(a)
	p.recs = append(p.recs, hostRecords(a, hz, p.addrs, ttl)...)
	p.recs = append(p.recs, ptrRecords(host, p.addrs, ttl)...)
	for _, r := range p.recs {
		if _, err := r.RR(); err != nil {
			return nil, fmt.Errorf("dnszone: %w", err)
		}
	}
	return p, nil
}

// serverAddrs returns the server's IPv4 then IPv6 addresses, each once.
func serverAddrs(a *answers.Answers) []netip.Addr {
	var out []netip.Addr
	for _, ip := range append(a.IPv4Addrs(), a.IPv6Addrs()...) {
		ip = ip.Unmap()
		if !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}

// hostZone returns the zone that holds the server hostname: the longest
// answers domain it lies in, or else the hostname without its first label
// (guessed).
func hostZone(a *answers.Answers) (string, bool) {
	host := a.Server.Hostname
	best := ""
	for _, d := range a.Domains {
		if (host == d.Name || strings.HasSuffix(host, "."+d.Name)) && len(d.Name) > len(best) {
			best = d.Name
		}
	}
	if best != "" {
		return best, false
	}
	if _, parent, ok := strings.Cut(host, "."); ok && strings.Contains(parent, ".") {
		return parent, true
	}
	return host, true
}

// domainRecords returns the records of a.Domains[i] and its zone.
func domainRecords(in generators.Input, i int, ttl uint32) ([]records.Record, zone, error) {
	a := in.Answers
	d := a.Domains[i]
	z := zone{name: d.Name}
	apex := d.Name + "."
	rec := func(name, typ, value, comment string) records.Record {
		return records.Record{Zone: d.Name, Name: name, Type: typ, TTL: ttl, Value: value, Comment: comment}
	}
	var out []records.Record

	// MX.
	for j, h := range a.MXHosts(d) {
		if _, err := netip.ParseAddr(h); err == nil {
			return nil, z, fmt.Errorf("dnszone: domains[%d].mx of %s: %s is an IP address; an MX record must name a host", i, d.Name, h)
		}
		why := fmt.Sprintf("Mail for %s is delivered to %s.", d.Name, h)
		switch {
		case len(d.MX) > 0:
			why = fmt.Sprintf("Mail for %s is delivered to %s (domains[].mx), preference %d: lower is tried first.", d.Name, h, 10*(j+1))
		case a.Relay.IsOffice365():
			why = fmt.Sprintf("Mail for %s is delivered to Office 365 (Exchange Online Protection), which holds the mailboxes.", d.Name)
		}
		r := rec(apex, records.TypeMX, h+".", why)
		r.Priority = uint16(10 * (j + 1))
		out = append(out, r)
	}

	// SPF.
	spf, err := spfRecord(a, i)
	if err != nil {
		return nil, z, err
	}
	out = append(out, rec(apex, records.TypeTXT, spf.value, spf.why))

	// DKIM.
	var dkimNames []string
	for _, s := range d.Signers() {
		key, ok := in.Keys[s.KeyName()]
		if !ok || key == nil {
			how := "generate the keys first"
			if s.External {
				how = "pass the key from domains[].dkim.public_key"
			}
			return nil, z, fmt.Errorf("dnszone: no public key for DKIM selector %s of %s (%s): %s", s.Selector, d.Name, s.KeyName(), how)
		}
		dk, err := records.NewDKIM(key)
		if err != nil {
			return nil, z, fmt.Errorf("dnszone: DKIM key of %s: %w", s.KeyName(), err)
		}
		if dk.KeyType != s.Algorithm {
			return nil, z, fmt.Errorf("dnszone: DKIM key of %s is %s, but the selector is for %s: check domains[].dkim.algorithm and the key", s.KeyName(), dk.KeyType, s.Algorithm)
		}
		what := "an Ed25519 key (RFC 8463)"
		if dk.KeyType == records.KeyRSA {
			what = fmt.Sprintf("a %d-bit RSA key", dk.RSABits())
		}
		why := fmt.Sprintf("DKIM: the public half of %s for selector %s. OpenDKIM on this server signs mail from %s with the private key; receivers check the signature with this record.", what, s.Selector, d.Name)
		if s.External {
			why = fmt.Sprintf("DKIM: %s for selector %s, whose private key another signer holds (domains[].dkim.public_key).", what, s.Selector)
		}
		dkimNames = append(dkimNames, s.KeyName())
		out = append(out, rec(s.KeyName()+".", records.TypeTXT, dk.String(), why))
	}

	// DMARC.
	dm, why, err := dmarcRecord(d)
	if err != nil {
		return nil, z, fmt.Errorf("dnszone: domains[%d].dmarc of %s: %w", i, d.Name, err)
	}
	out = append(out, rec("_dmarc."+apex, records.TypeTXT, dm, why))

	// Office 365 DKIM.
	if a.Relay.IsOffice365() {
		cn, err := office365CNAMEs(a, d)
		if err != nil {
			return nil, z, err
		}
		for _, c := range cn {
			name := c.selector + "._domainkey." + d.Name
			if slices.Contains(dkimNames, name) {
				return nil, z, fmt.Errorf("dnszone: relay.office365.dkim_cnames: %s is also this server's DKIM selector name: choose another domains[].dkim.selector", name)
			}
			why := fmt.Sprintf("Office 365 DKIM: %s points at the key Microsoft publishes and rotates for %s; Office 365 signs mail it sends for the domain with it. Enable signing once both CNAMEs resolve (or in the Defender portal):\n    Set-DkimSigningConfig -Identity %s -Enabled $true", c.selector, d.Name, d.Name)
			out = append(out, rec(name+".", records.TypeCNAME, c.target+".", why))
		}
		if len(cn) == 0 {
			z.o365NoCNAMEs = true
		}
	}
	return out, z, nil
}

// spfResult is a domain's SPF value and why it reads so.
type spfResult struct{ value, why string }

// spfRecord builds the SPF record of a.Domains[i]: the server's
// addresses, Office 365, the smarthost, the domain's extra mechanisms,
// then ~all.
func spfRecord(a *answers.Answers, i int) (spfResult, error) {
	d := a.Domains[i]
	var terms []records.SPFTerm
	add := func(t records.SPFTerm) {
		if !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	who := []string{}
	ips := serverAddrs(a)
	for _, ip := range ips {
		add(records.IPTerm(ip))
	}
	if len(ips) > 0 {
		who = append(who, "this server's addresses")
	}
	var extra []string
	if a.Relay.IsOffice365() {
		add(records.IncludeTerm(answers.Office365SPFInclude))
		who = append(who, "Office 365 ("+answers.Office365SPFInclude+")")
	}
	if a.Relay.Mode == answers.ModeSmarthost {
		sh := a.Relay.Smarthost
		if len(sh.SPF) > 0 {
			terms2, err := extraTerms(sh.SPF, "relay.smarthost.spf")
			if err != nil {
				return spfResult{}, err
			}
			for _, t := range terms2 {
				add(t)
			}
			who = append(who, "the smarthost "+sh.Host+" (relay.smarthost.spf)")
		} else {
			t := records.ATerm(sh.Host)
			if ip, err := netip.ParseAddr(sh.Host); err == nil {
				t = records.IPTerm(ip)
			}
			add(t)
			who = append(who, "the smarthost "+sh.Host)
			extra = append(extra, fmt.Sprintf("%s covers only the addresses %s resolves to: if the relay sends from other addresses, replace it with the relay provider's SPF include (set relay.smarthost.spf).", t, sh.Host))
		}
	}
	if len(d.SPF) > 0 {
		terms2, err := extraTerms(d.SPF, fmt.Sprintf("domains[%d].spf", i))
		if err != nil {
			return spfResult{}, err
		}
		for _, t := range terms2 {
			add(t)
		}
		who = append(who, "the other senders in domains[].spf")
	}
	add(records.AllTerm(records.SoftFail))
	spf, err := records.NewSPF(terms...)
	if err != nil {
		return spfResult{}, fmt.Errorf("dnszone: SPF record of %s: %w", d.Name, err)
	}
	if spf.HasPassAll() {
		return spfResult{}, fmt.Errorf("dnszone: SPF record of %s would pass every host (+all)", d.Name)
	}
	if n := spf.LookupTerms(); n > records.MaxSPFLookups {
		return spfResult{}, fmt.Errorf("%w: %s has %d terms that cost a DNS lookup (include, a, mx, ptr, exists), more than the %d receivers allow (RFC 7208 §4.6.4); replace a:, mx: and include: in domains[%d].spf or relay.smarthost.spf with ip4:/ip6: ranges, or drop senders that no longer send for the domain",
			ErrTooManyLookups, d.Name, n, records.MaxSPFLookups, i)
	}
	why := "SPF: the hosts that may send mail from @" + d.Name + ": "
	if len(who) == 0 {
		why += "none listed"
	} else {
		why += joinAnd(who)
	}
	why += "; ~all soft-fails every other host."
	if len(extra) > 0 {
		why += "\n" + strings.Join(extra, "\n")
	}
	return spfResult{value: spf.String(), why: why}, nil
}

// extraTerms parses the SPF mechanisms of an answers field. Only
// mechanisms other than all belong there: the record ends in ~all.
func extraTerms(ss []string, field string) ([]records.SPFTerm, error) {
	var out []records.SPFTerm
	for _, s := range ss {
		s = strings.TrimSpace(s)
		t, err := records.ParseSPFTerm(s)
		if err != nil {
			return nil, fmt.Errorf("dnszone: %s: %w", field, err)
		}
		switch {
		case t.Mechanism == records.MechAll:
			return nil, fmt.Errorf("dnszone: %s: remove %q: sendready ends the record with ~all itself", field, s)
		case t.Mechanism == "":
			return nil, fmt.Errorf("dnszone: %s: %q is a modifier; list only mechanisms (ip4:, ip6:, a:, mx:, include:)", field, s)
		}
		out = append(out, t)
	}
	return out, nil
}

// dmarcRecord builds the DMARC value of d and its comment.
func dmarcRecord(d answers.Domain) (string, string, error) {
	rec := records.DMARC{
		Policy:          d.DMARC.Policy,
		SubdomainPolicy: d.DMARC.SubdomainPolicy,
		RUA:             splitURIs(d.DMARC.RUA),
		RUF:             splitURIs(d.DMARC.RUF),
	}
	if d.DMARC.Pct != 0 {
		pct := d.DMARC.Pct
		rec.Pct = &pct
	}
	value := rec.String()
	if _, _, err := records.ParseDMARC(value); err != nil {
		return "", "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "DMARC: receivers apply p=%s to mail from @%s that passes neither SPF nor DKIM for the domain", rec.Policy, d.Name)
	if rec.Pct != nil && *rec.Pct != 100 {
		fmt.Fprintf(&b, " (to %d%% of it)", *rec.Pct)
	}
	b.WriteString(".")
	if len(rec.RUA) > 0 {
		b.WriteString(" Aggregate reports go to the rua= addresses.")
	}
	for _, dom := range reportDomains(d.Name, append(slices.Clone(rec.RUA), rec.RUF...)) {
		fmt.Fprintf(&b, "\nReports go to another domain, so this record must exist at the report domain %s, or receivers send it no reports (RFC 7489 §7.1):\n    %s._report._dmarc.%s TXT \"v=DMARC1\"", dom, d.Name, dom)
	}
	return value, b.String(), nil
}

func splitURIs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// reportDomains lists the domains of report URIs outside domain (neither
// domain itself, a subdomain of it, nor a parent of it), sorted, once each.
func reportDomains(domain string, uris []string) []string {
	var out []string
	for _, u := range uris {
		addr := records.MailtoAddress(u)
		_, dom, ok := strings.Cut(addr, "@")
		if !ok {
			continue
		}
		dom = strings.TrimSuffix(strings.ToLower(dom), ".")
		if dom == domain || strings.HasSuffix(dom, "."+domain) || strings.HasSuffix(domain, "."+dom) {
			continue
		}
		if !slices.Contains(out, dom) {
			out = append(out, dom)
		}
	}
	sort.Strings(out)
	return out
}

// cname is one Office 365 DKIM selector CNAME.
type cname struct{ selector, target string }

// office365CNAMEs returns the relay.office365.dkim_cnames entries that
// belong to d. With one domain every entry does. With several, an entry
// belongs to the domain its target names: Microsoft's targets start with
// "<selector>-<domain with dots as dashes>" (selector1-example-com).
func office365CNAMEs(a *answers.Answers, d answers.Domain) ([]cname, error) {
	m := a.Relay.Office365.DKIMCNAMEs
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []cname
	for _, k := range keys {
		sel := strings.ToLower(strings.TrimSpace(k))
		target := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(m[k])), ".")
		if sel == "" || strings.ContainsAny(sel, ". ") {
			return nil, fmt.Errorf("dnszone: relay.office365.dkim_cnames: %q is not a selector name (selector1, selector2)", k)
		}
		if target == "" || !strings.Contains(target, ".") {
			return nil, fmt.Errorf("dnszone: relay.office365.dkim_cnames.%s: %q is not a host name: copy Selector1CNAME/Selector2CNAME from Get-DkimSigningConfig", k, m[k])
		}
		if len(a.Domains) > 1 {
			owner := ""
			for _, od := range a.Domains {
				guid := strings.TrimSuffix(answers.Office365SmartHost(od.Name), ".mail.protection.outlook.com")
				if strings.HasPrefix(target, sel+"-"+guid+".") {
					owner = od.Name
				}
			}
			if owner == "" {
				return nil, fmt.Errorf("dnszone: relay.office365.dkim_cnames.%s: %s names none of the domains (Microsoft's targets start with %s-<domain with dashes>): with several domains, the CNAMEs must come from Get-DkimSigningConfig of each", k, target, sel)
			}
			if owner != d.Name {
				continue
			}
		}
		out = append(out, cname{sel, target})
	}
	return out, nil
}

// hostRecords returns the server hostname's A and AAAA records for addrs
// and its HELO SPF, in zone hz.
func hostRecords(a *answers.Answers, hz string, addrs []netip.Addr, ttl uint32) []records.Record {
	host := a.Server.Hostname
	isDomain := false
	for _, d := range a.Domains {
		isDomain = isDomain || d.Name == host
	}
	var out []records.Record
	rec := func(typ, value, why string) {
		out = append(out, records.Record{Zone: hz, Name: host + ".", Type: typ, TTL: ttl, Value: value, Comment: why})
	}
	for _, ip := range addrs {
		if ip.Is4() {
			rec(records.TypeA, ip.String(), fmt.Sprintf("The server %s has the address %s: its HELO name, MX target and PTR target resolve here. Not proxied (on Cloudflare: DNS only).", host, ip))
		} else {
			rec(records.TypeAAAA, ip.String(), fmt.Sprintf("The server %s has the IPv6 address %s: its HELO name, MX target and PTR target resolve here. Not proxied (on Cloudflare: DNS only).", host, ip))
		}
	}
	if isDomain {
		// The domain's own SPF record, at the same name, covers the HELO
		// name; a second SPF record there would break both.
		return out
	}
	helo, _ := records.NewSPF(records.ATerm(""), records.AllTerm(records.Fail))
	rec(records.TypeTXT, helo.String(), fmt.Sprintf("SPF for the HELO name %s: receivers check it for bounces and other mail with an empty envelope sender; only the host's own address (a) may use the name.", host))
	return out
}

// ptrRecords returns one PTR request per address, naming host.
func ptrRecords(host string, addrs []netip.Addr, ttl uint32) []records.Record {
	var out []records.Record
	for _, ip := range addrs {
		out = append(out, records.Record{
			Zone: records.ReverseZone(ip), Name: records.ReverseName(ip), Type: records.TypePTR, TTL: ttl, Value: host + ".",
			Comment: fmt.Sprintf("Reverse DNS of %s: the owner of the address (your hosting or VPS provider) sets it, not your DNS provider. Receivers check that it names %s and that %s resolves back to %s.", ip, host, host, ip),
		})
	}
	return out
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
