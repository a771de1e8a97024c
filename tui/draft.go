package tui

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
)

// Choices of the upstream question.
const (
	upstreamNone     = "none"
	upstreamNetworks = "networks"
	upstreamSASL     = "sasl"
	upstreamBoth     = "both"
)

// Choices of the domain settings question.
const (
	settingsRecommended = "recommended"
	settingsCustom      = "custom"
)

// draft holds the answers as the pages edit them: lists as the
// comma-separated text the admin types, per-domain settings by name (so
// that editing the domain list keeps them), and the relay password, which
// never reaches the answers. Every huh field binds to a draft field, so
// rebuilding a page after Esc shows what was typed.
type draft struct {
	// base holds what was loaded (or nothing): the answers the wizard does
	// not ask about (MX overrides, extra SPF, TTL…) are kept from it.
	base answers.Answers
	now  time.Time
	// accessible builds fields for huh's line prompts: the help and the
	// default go into the title, and an empty line keeps the default.
	accessible bool
	// tty says whether the accessible input is a terminal, where the
	// password can be read without echo.
	tty bool
	// clearable are the optional fields of the page being asked.
	clearable []*string
	// nat is the detection's NAT warning, shown with the addresses.
	nat string
	// mu guards the fields huh reads from Cmds (see topologyGroup).
	mu sync.Mutex

	Hostname string
	IPv4     string
	IPv6     string
	Distro   string

	Domains  string
	Settings string
	domains  map[string]*domainDraft

	Mode          string
	SmartHost365  string
	ConnectorAuth string
	CertFile      string
	KeyFile       string
	CertName      string
	Mailbox       string
	RelayHost     string
	RelayPort     string
	RelayUser     string
	Destinations  string
	RelaySPF      string
	Password      string
	Upstream      string
	Networks      string

	Provider string
	// TokenFile is the Cloudflare API token file (dns.cloudflare.token_file):
	// the token itself is never asked for.
	TokenFile string
	// DNSServer and TSIGFile are the RFC 2136 primary and its key file
	// (dns.rfc2136.server, dns.rfc2136.tsig_key_file).
	DNSServer string
	TSIGFile  string
}

// domainDraft is one domain's settings.
type domainDraft struct {
	Selector  string
	Algorithm string
	Policy    string
	RUA       string
}

// newDraft starts from a (nil: nothing) with now for default selectors.
func newDraft(a *answers.Answers, now time.Time) *draft {
	d := &draft{now: now, domains: map[string]*domainDraft{}}
	if a == nil {
		d.Settings = settingsRecommended
		d.Mode = answers.ModeDirect
		d.Upstream = upstreamNone
		d.Provider = answers.ProviderManual
		d.ConnectorAuth = answers.ConnectorIP
		d.RelayPort = "587"
		return d
	}
	d.base = *a
	d.Hostname = a.Server.Hostname
	d.IPv4 = strings.Join(a.Server.IPv4, ", ")
	d.IPv6 = strings.Join(a.Server.IPv6, ", ")
	d.Distro = a.Server.Distro
	var names []string
	d.Settings = settingsRecommended
	for _, dom := range a.Domains {
		names = append(names, dom.Name)
		rec := d.recommended(dom.Name)
		dd := &domainDraft{
			Selector:  cmpOr(dom.DKIM.Selector, rec.Selector),
			Algorithm: cmpOr(dom.DKIM.Algorithm, rec.Algorithm),
			Policy:    cmpOr(dom.DMARC.Policy, rec.Policy),
			RUA:       dom.DMARC.RUA,
		}
		if *dd != *rec {
			d.Settings = settingsCustom
		}
		d.domains[norm(dom.Name)] = dd
	}
	d.Domains = strings.Join(names, ", ")
	r := a.Relay
	d.Mode = cmpOr(r.Mode, answers.ModeDirect)
	d.SmartHost365 = r.Office365.SmartHost
	d.ConnectorAuth = cmpOr(r.Office365.ConnectorAuth, answers.ConnectorIP)
	d.CertFile = r.Office365.Certificate.CertFile
	d.KeyFile = r.Office365.Certificate.KeyFile
	d.CertName = r.Office365.Certificate.Name
	d.Mailbox = r.Office365.Username
	d.RelayHost = r.Smarthost.Host
	d.RelayPort = "587"
	if r.Smarthost.Port != 0 {
		d.RelayPort = strconv.Itoa(r.Smarthost.Port)
	}
	d.RelayUser = r.Smarthost.Username
	d.Destinations = strings.Join(r.Smarthost.Destinations, ", ")
	d.RelaySPF = strings.Join(r.Smarthost.SPF, ", ")
	d.Networks = strings.Join(r.Upstream.Networks, ", ")
	switch {
	case len(r.Upstream.Networks) > 0 && r.Upstream.SASL:
		d.Upstream = upstreamBoth
	case len(r.Upstream.Networks) > 0:
		d.Upstream = upstreamNetworks
	case r.Upstream.SASL:
		d.Upstream = upstreamSASL
	default:
		d.Upstream = upstreamNone
	}
	d.Provider = cmpOr(a.DNS.Provider, answers.ProviderManual)
	d.TokenFile = a.DNS.Cloudflare.TokenFile
	d.DNSServer = a.DNS.RFC2136.Server
	d.TSIGFile = a.DNS.RFC2136.TSIGKeyFile
	return d
}

// detected fills what is still empty from detection: the host name, the
// public addresses, the distribution, and one domain (the host name's
// parent).
func (d *draft) detected(r detect.Result) {
	if d.Hostname == "" {
		d.Hostname = r.Hostname
	}
	if d.IPv4 == "" && d.IPv6 == "" {
		d.IPv4 = joinAddrs(r.PublicIPv4)
		d.IPv6 = joinAddrs(r.PublicIPv6)
	}
	if d.Distro == "" {
		d.Distro = r.Distro
	}
	if d.Domains == "" {
		d.Domains = parentDomain(d.Hostname)
	}
}

func joinAddrs(ips []netip.Addr) string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return strings.Join(s, ", ")
}

// parentDomain is the domain a mail host name most likely sends for:
// mail.example.com → example.com; a two-label name is its own domain.
func parentDomain(host string) string {
	host = norm(host)
	labels := strings.Split(host, ".")
	if len(labels) <= 2 {
		if len(labels) == 2 {
			return host
		}
		return ""
	}
	return strings.Join(labels[1:], ".")
}

// recommended is a domain's default settings.
func (d *draft) recommended(name string) *domainDraft {
	return &domainDraft{
		Selector:  d.now.UTC().Format("200601"),
		Algorithm: answers.AlgRSA,
		Policy:    "none",
		RUA:       "mailto:dmarc@" + norm(name),
	}
}

// domainNames splits the domain list.
func (d *draft) domainNames() []string { return splitList(d.Domains) }

// domain returns the settings of the i-th listed domain, creating the
// recommended ones the first time.
func (d *draft) domain(i int) (string, *domainDraft) {
	names := d.domainNames()
	if i >= len(names) {
		return "", d.recommended("")
	}
	name := norm(names[i])
	dd, ok := d.domains[name]
	if !ok {
		dd = d.recommended(name)
		d.domains[name] = dd
	}
	return name, dd
}

// answers builds the answers from the draft, keeping what the wizard does
// not ask from base. No defaults are applied: a saved file keeps what was
// typed.
func (d *draft) answers() *answers.Answers {
	a := d.base
	a.Server.Hostname = strings.TrimSpace(d.Hostname)
	a.Server.IPv4 = splitList(d.IPv4)
	a.Server.IPv6 = splitList(d.IPv6)
	a.Server.Distro = d.Distro
	a.Domains = nil
	for i, name := range d.domainNames() {
		var dom answers.Domain
		for _, b := range d.base.Domains {
			if norm(b.Name) == norm(name) {
				dom = b
			}
		}
		name, dd := d.domain(i)
		if d.Settings == settingsRecommended {
			dd = d.recommended(name)
		}
		dom.Name = name
		dom.DKIM.Selector = dd.Selector
		dom.DKIM.Algorithm = dd.Algorithm
		dom.DMARC.Policy = dd.Policy
		dom.DMARC.RUA = strings.TrimSpace(dd.RUA)
		a.Domains = append(a.Domains, dom)
	}
	r := &a.Relay
	r.Mode = d.Mode
	o := &r.Office365
	o.ConnectorAuth, o.SmartHost, o.Username = "", "", ""
	o.Certificate = answers.Certificate{}
	s := &r.Smarthost
	*s = answers.Smarthost{}
	switch d.Mode {
	case answers.ModeOffice365Connect:
		o.SmartHost = strings.TrimSpace(d.SmartHost365)
		o.ConnectorAuth = d.ConnectorAuth
		if d.ConnectorAuth == answers.ConnectorCertificate {
			o.Certificate = answers.Certificate{CertFile: strings.TrimSpace(d.CertFile), KeyFile: strings.TrimSpace(d.KeyFile), Name: strings.TrimSpace(d.CertName)}
		}
	case answers.ModeOffice365SMTPAuth:
		o.Username = strings.TrimSpace(d.Mailbox)
	case answers.ModeSmarthost:
		s.Host = strings.TrimSpace(d.RelayHost)
		s.Port, _ = strconv.Atoi(strings.TrimSpace(d.RelayPort))
		s.Username = strings.TrimSpace(d.RelayUser)
		s.Destinations = splitList(d.Destinations)
		s.SPF = splitList(d.RelaySPF)
	}
	if !r.IsOffice365() {
		r.Office365 = answers.Office365{}
	}
	r.Upstream = answers.Upstream{SASL: d.Upstream == upstreamSASL || d.Upstream == upstreamBoth}
	if d.Upstream == upstreamNetworks || d.Upstream == upstreamBoth {
		r.Upstream.Networks = splitList(d.Networks)
	}
	a.DNS.Provider = d.Provider
	// The settings of the chosen provider come from its page; the other
	// provider's stay as loaded.
	switch d.Provider {
	case answers.ProviderCloudflare:
		a.DNS.Cloudflare.TokenFile = strings.TrimSpace(d.TokenFile)
	case answers.ProviderRFC2136:
		a.DNS.RFC2136.Server = strings.TrimSpace(d.DNSServer)
		a.DNS.RFC2136.TSIGKeyFile = strings.TrimSpace(d.TSIGFile)
	}
	return &a
}

// password is the relay password when the topology uses one.
func (d *draft) password() string {
	a := d.answers()
	if !a.Relay.UsesSASLClient() {
		return ""
	}
	return d.Password
}

// splitList splits comma- or space-separated text, dropping empty items.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' })
	return slices.DeleteFunc(f, func(s string) bool { return s == "" })
}

func norm(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
