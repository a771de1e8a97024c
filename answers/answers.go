// Package answers is the model of everything the wizard asks: the server, the
// domains it sends for, the relay topology and the DNS provider. The wizard
// writes an answers file, and every command reads one.
package answers

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Relay modes: how mail leaves this server.
const (
	ModeDirect            = "direct"              // straight to the recipients' MX
	ModeOffice365Connect  = "office365-connector" // into Office 365 through an inbound connector
	ModeOffice365SMTPAuth = "office365-smtp-auth" // into Office 365 by SMTP AUTH on a mailbox
	ModeSmarthost         = "smarthost"           // through another relay
)

// DKIM algorithms.
const (
	AlgRSA     = "rsa"
	AlgEd25519 = "ed25519"
	AlgBoth    = "both" // an RSA selector plus "<selector>-ed" with ed25519
)

// Distributions whose file layout the generators know.
const (
	DistroDebian = "debian"
	DistroRHEL   = "rhel"
)

// DNS providers.
const (
	ProviderManual     = "manual"
	ProviderCloudflare = "cloudflare"
	ProviderRFC2136    = "rfc2136"
)

// Office 365 connector authentication.
const (
	ConnectorIP          = "ip"
	ConnectorCertificate = "certificate"
)

// Office365SMTPAuthHost is Microsoft's SMTP AUTH submission endpoint.
const Office365SMTPAuthHost = "smtp.office365.com"

// Office365SPFInclude is the SPF include Microsoft publishes for mail it sends.
const Office365SPFInclude = "spf.protection.outlook.com"

// Answers is the whole answers file.
type Answers struct {
	Server  Server   `yaml:"server"`
	Domains []Domain `yaml:"domains"`
	Relay   Relay    `yaml:"relay"`
	DNS     DNS      `yaml:"dns"`
}

// Server describes this machine.
type Server struct {
	// Hostname is the FQDN: the HELO name, the A record and the PTR target.
	Hostname string `yaml:"hostname"`
	// IPv4 and IPv6 are the public addresses mail leaves from.
	IPv4 []string `yaml:"ipv4"`
	IPv6 []string `yaml:"ipv6"`
	// Distro selects file locations and package names: debian or rhel.
	Distro string `yaml:"distro"`
	// InboundSPF turns on SPF checking of inbound mail (policyd-spf). It only
	// applies where this host receives mail (some domain's MX points here);
	// unset means yes there.
	InboundSPF *bool `yaml:"inbound_spf,omitempty"`
}

// Domain is one domain this server sends for.
type Domain struct {
	Name  string `yaml:"name"`
	DKIM  DKIM   `yaml:"dkim"`
	DMARC DMARC  `yaml:"dmarc"`
	// MX overrides the MX hosts published for the domain. Empty means the
	// server's hostname, or the Office 365 endpoint when relay.office365
	// .mx_to_office365 is set.
	MX []string `yaml:"mx,omitempty"`
	// SPF lists extra SPF mechanisms for other servers that send for the
	// domain (another relay, a newsletter service): "ip4:192.0.2.5",
	// "include:_spf.example.net". They are kept before the "~all".
	SPF []string `yaml:"spf,omitempty"`
}

// DKIM holds a domain's signing settings.
type DKIM struct {
	// Selector names the key: <selector>._domainkey.<domain>. Default YYYYMM.
	Selector string `yaml:"selector"`
	// Algorithm is rsa, ed25519 or both.
	Algorithm string `yaml:"algorithm"`
	// Bits is the RSA key size: 1024, 2048, 3072 or 4096.
	Bits int `yaml:"bits"`
	// PublicKey is set when another signer holds the private key: the
	// record is published, and no key is generated. Either the base64 of
	// the key (as in p=) or a PEM public key.
	PublicKey string `yaml:"public_key"`
}

// DMARC holds a domain's DMARC policy.
type DMARC struct {
	// Policy is none, quarantine or reject.
	Policy string `yaml:"policy"`
	// SubdomainPolicy (sp=) is none, quarantine or reject; empty: as Policy.
	SubdomainPolicy string `yaml:"subdomain_policy,omitempty"`
	// RUA receives aggregate reports: mailto: URIs, comma-separated.
	RUA string `yaml:"rua"`
	// RUF receives failure reports: mailto: URIs, comma-separated.
	RUF string `yaml:"ruf,omitempty"`
	// Pct is the percentage of failing mail the policy applies to; 0 means
	// 100 (the tag is left out).
	Pct int `yaml:"pct,omitempty"`
}

// Relay describes the topology.
type Relay struct {
	// Mode is direct, office365-connector, office365-smtp-auth or smarthost.
	Mode      string    `yaml:"mode"`
	Office365 Office365 `yaml:"office365"`
	Smarthost Smarthost `yaml:"smarthost"`
	Upstream  Upstream  `yaml:"upstream"`
	// AllowPrivate accepts private and loopback addresses (labs only).
	AllowPrivate bool `yaml:"allow_private"`
}

// Office365 holds the settings of both Office 365 modes.
type Office365 struct {
	// SmartHost is the endpoint shown in the Microsoft 365 admin centre.
	// Empty: derived from the first domain (example-com.mail.protection.outlook.com).
	SmartHost string `yaml:"smart_host"`
	// ConnectorAuth is ip or certificate.
	ConnectorAuth string      `yaml:"connector_auth"`
	Certificate   Certificate `yaml:"certificate"`
	// MXToOffice365 points the domains' MX at Office 365; unset means yes.
	MXToOffice365 *bool `yaml:"mx_to_office365,omitempty"`
	// DKIMCNAMEs maps selector1/selector2 to the CNAME targets that
	// Get-DkimSigningConfig shows.
	DKIMCNAMEs map[string]string `yaml:"dkim_cnames"`
	// Username is the mailbox Postfix authenticates as (office365-smtp-auth);
	// the envelope sender is rewritten to it. The password is never stored here.
	Username string `yaml:"username,omitempty"`
	// MessagesPerMinute limits the rate towards Microsoft (office365-smtp-auth);
	// 0 means 30, Microsoft's per-mailbox limit.
	MessagesPerMinute int `yaml:"messages_per_minute,omitempty"`
}

// Certificate is the client certificate Postfix presents to a certificate connector.
type Certificate struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// Name is the certificate's subject name that the connector matches
	// (-TlsSenderCertificateName).
	Name string `yaml:"name"`
}

// Smarthost is the relay mail goes through in smarthost mode.
type Smarthost struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// Username for SASL; empty: no authentication. The password is never stored here.
	Username string `yaml:"username"`
	// Destinations limits the smarthost to these recipient domains; empty: all mail.
	Destinations []string `yaml:"destinations"`
	// SPF lists the SPF mechanisms that cover the smarthost's sending
	// addresses ("include:_spf.relay.example.net", "ip4:192.0.2.25");
	// empty: "a:<host>", which is right only when the host sends from the
	// addresses its name resolves to.
	SPF []string `yaml:"spf,omitempty"`
}

// Upstream lists the servers that relay through this box.
type Upstream struct {
	// Networks are trusted to relay (mynetworks) and signed for (TrustedHosts).
	Networks []string `yaml:"networks"`
	// SASL makes upstream servers authenticate on port 587 instead.
	SASL bool `yaml:"sasl"`
}

// DNS says how records get published.
type DNS struct {
	// Provider is manual, cloudflare or rfc2136.
	Provider   string     `yaml:"provider"`
	TTL        int        `yaml:"ttl"`
	RFC2136    RFC2136    `yaml:"rfc2136"`
	Cloudflare Cloudflare `yaml:"cloudflare,omitempty"`
}

// Cloudflare holds Cloudflare settings. The API token itself is never
// stored here: it is read from TokenFile or the CLOUDFLARE_API_TOKEN
// environment variable.
type Cloudflare struct {
	// TokenFile is a file holding an API token with Zone:Read and DNS:Edit.
	TokenFile string `yaml:"token_file,omitempty"`
}

// RFC2136 holds dynamic-update settings.
type RFC2136 struct {
	Server      string `yaml:"server"`
	TSIGKeyFile string `yaml:"tsig_key_file"`
}

// Defaults fills every unset answer with its documented default. now gives
// the default DKIM selector (YYYYMM); callers pass the clock, so the rest of
// the program stays free of it.
func (a *Answers) Defaults(now time.Time) {
	if a.Server.Distro == "" {
		a.Server.Distro = DistroDebian
	}
	a.Server.Hostname = normName(a.Server.Hostname)
	for i := range a.Domains {
		d := &a.Domains[i]
		d.Name = normName(d.Name)
		if d.DKIM.Selector == "" {
			d.DKIM.Selector = now.UTC().Format("200601")
		}
		if d.DKIM.Algorithm == "" {
			d.DKIM.Algorithm = AlgRSA
		}
		if d.DKIM.Bits == 0 && d.DKIM.Algorithm != AlgEd25519 {
			d.DKIM.Bits = 2048
		}
		if d.DMARC.Policy == "" {
			d.DMARC.Policy = "none"
		}
		for j := range d.MX {
			d.MX[j] = normName(d.MX[j])
		}
	}
	if a.Relay.Mode == "" {
		a.Relay.Mode = ModeDirect
	}
	o := &a.Relay.Office365
	if a.Relay.IsOffice365() {
		if o.ConnectorAuth == "" {
			o.ConnectorAuth = ConnectorIP
		}
		if o.SmartHost == "" && a.Relay.Mode == ModeOffice365Connect && len(a.Domains) > 0 {
			o.SmartHost = Office365SmartHost(a.Domains[0].Name)
		}
		if o.MXToOffice365 == nil {
			yes := true
			o.MXToOffice365 = &yes
		}
		if o.MessagesPerMinute == 0 && a.Relay.Mode == ModeOffice365SMTPAuth {
			o.MessagesPerMinute = 30
		}
	}
	o.SmartHost = normName(o.SmartHost)
	if a.Relay.Mode == ModeSmarthost && a.Relay.Smarthost.Port == 0 {
		a.Relay.Smarthost.Port = 587
	}
	a.Relay.Smarthost.Host = normName(a.Relay.Smarthost.Host)
	if a.DNS.Provider == "" {
		a.DNS.Provider = ProviderManual
	}
	if a.DNS.TTL == 0 {
		a.DNS.TTL = 3600
	}
}

func normName(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// Office365SmartHost derives the connector endpoint Microsoft assigns to a
// domain: dots become dashes under mail.protection.outlook.com.
func Office365SmartHost(domain string) string {
	return strings.ReplaceAll(normName(domain), ".", "-") + ".mail.protection.outlook.com"
}

// IsOffice365 reports whether mail is relayed into Office 365.
func (r Relay) IsOffice365() bool {
	return r.Mode == ModeOffice365Connect || r.Mode == ModeOffice365SMTPAuth
}

// RelaysForUpstream reports whether this box relays for other servers.
func (r Relay) RelaysForUpstream() bool {
	return len(r.Upstream.Networks) > 0 || r.Upstream.SASL
}

// UsesSASLClient reports whether Postfix authenticates to its relay host,
// which needs sasl_passwd and Debian's libsasl2-modules.
func (r Relay) UsesSASLClient() bool {
	return r.Mode == ModeOffice365SMTPAuth || (r.Mode == ModeSmarthost && r.Smarthost.Username != "")
}

// RelayHost is the next hop as Postfix writes it ("[host]:port"), or "" in
// direct mode. In smarthost mode with destinations the value goes into the
// transport map instead of relayhost.
func (r Relay) RelayHost() string {
	switch r.Mode {
	case ModeOffice365Connect:
		return "[" + r.Office365.SmartHost + "]:25"
	case ModeOffice365SMTPAuth:
		return "[" + Office365SMTPAuthHost + "]:587"
	case ModeSmarthost:
		return fmt.Sprintf("[%s]:%d", r.Smarthost.Host, r.Smarthost.Port)
	}
	return ""
}

// Signer is one DKIM key a domain signs with.
type Signer struct {
	Domain    string
	Selector  string
	Algorithm string // rsa or ed25519
	Bits      int    // RSA only
	// External is true when another signer holds the private key.
	External bool
}

// KeyName is the signer's DNS name: <selector>._domainkey.<domain>.
func (s Signer) KeyName() string { return s.Selector + "._domainkey." + s.Domain }

// Signers lists the keys of a domain: one, or two for algorithm both
// (the ed25519 selector is "<selector>-ed").
func (d Domain) Signers() []Signer {
	ext := d.DKIM.PublicKey != ""
	switch d.DKIM.Algorithm {
	case AlgEd25519:
		return []Signer{{Domain: d.Name, Selector: d.DKIM.Selector, Algorithm: AlgEd25519, External: ext}}
	case AlgBoth:
		return []Signer{
			{Domain: d.Name, Selector: d.DKIM.Selector, Algorithm: AlgRSA, Bits: d.DKIM.Bits, External: ext},
			{Domain: d.Name, Selector: d.DKIM.Selector + "-ed", Algorithm: AlgEd25519, External: ext},
		}
	}
	return []Signer{{Domain: d.Name, Selector: d.DKIM.Selector, Algorithm: AlgRSA, Bits: d.DKIM.Bits, External: ext}}
}

// Signers lists every DKIM key of every domain, in answers order.
func (a *Answers) Signers() []Signer {
	var s []Signer
	for _, d := range a.Domains {
		s = append(s, d.Signers()...)
	}
	return s
}

// UsesEd25519 reports whether any domain signs with ed25519, which needs
// the second OpenDKIM instance.
func (a *Answers) UsesEd25519() bool {
	for _, s := range a.Signers() {
		if s.Algorithm == AlgEd25519 && !s.External {
			return true
		}
	}
	return false
}

// MXHosts is the MX set a domain should publish, in preference order.
func (a *Answers) MXHosts(d Domain) []string {
	if len(d.MX) > 0 {
		return d.MX
	}
	if a.Relay.IsOffice365() && a.Relay.Office365.MXToOffice365 != nil && *a.Relay.Office365.MXToOffice365 {
		return []string{Office365SmartHost(d.Name)}
	}
	return []string{a.Server.Hostname}
}

// ReceivesMail reports whether some domain's MX points at this server.
func (a *Answers) ReceivesMail() bool {
	for _, d := range a.Domains {
		for _, h := range a.MXHosts(d) {
			if h == a.Server.Hostname {
				return true
			}
		}
	}
	return false
}

// InboundSPFCheck reports whether inbound mail gets SPF-checked by policyd-spf.
func (a *Answers) InboundSPFCheck() bool {
	if !a.ReceivesMail() {
		return false
	}
	return a.Server.InboundSPF == nil || *a.Server.InboundSPF
}

// IPv4Addrs returns the parsed IPv4 sending addresses. Call after Validate.
func (a *Answers) IPv4Addrs() []netip.Addr { return parseAddrs(a.Server.IPv4) }

// IPv6Addrs returns the parsed IPv6 sending addresses. Call after Validate.
func (a *Answers) IPv6Addrs() []netip.Addr { return parseAddrs(a.Server.IPv6) }

// UpstreamPrefixes returns the parsed upstream networks (a bare address is a
// host prefix). Call after Validate.
func (a *Answers) UpstreamPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range a.Relay.Upstream.Networks {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if ip, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}
