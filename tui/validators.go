package tui

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sendready/sendready/answers"
)

// The validators check one field by running answers.Validate on answers
// holding just that field, so the wizard says exactly what `generate` would
// say. Each returns the first refusal under its key path.

// problemAt runs Defaults and Validate on a and returns the first refused
// value whose path starts with prefix, as an error for a person.
func problemAt(a *answers.Answers, prefix string) error {
	return problemWhere(a, func(path string) bool { return strings.HasPrefix(path, prefix) })
}

// problemWhere is problemAt for the paths that match.
func problemWhere(a *answers.Answers, match func(path string) bool) error {
	a.Defaults(time.Time{})
	_, err := a.Validate()
	var ve *answers.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	for _, p := range ve.Problems {
		if match(p.Path) {
			return errors.New(problemText(p))
		}
	}
	return nil
}

// problemText is a problem without its key path: the page says which
// field it is.
func problemText(p answers.Problem) string {
	return strings.TrimPrefix(p.String(), p.Path+": ")
}

// validHostname checks the server's host name (server.hostname).
func validHostname(s string) error {
	return problemAt(&answers.Answers{Server: answers.Server{Hostname: s}}, "server.hostname")
}

// ipListValidator checks a comma-separated list of sending addresses
// (server.ipv4 or server.ipv6). Empty is fine here: at least one of both
// lists is checked with the whole answers.
func ipListValidator(v4, allowPrivate bool) func(string) error {
	return func(s string) error {
		a := &answers.Answers{Relay: answers.Relay{AllowPrivate: allowPrivate}}
		prefix := "server.ipv6["
		if v4 {
			a.Server.IPv4, prefix = splitList(s), "server.ipv4["
		} else {
			a.Server.IPv6 = splitList(s)
		}
		if err := problemAt(a, prefix); err != nil {
			return err
		}
		return problemWhere(a, func(path string) bool { return path == "server" }) // duplicates
	}
}

// validIPv4List checks server.ipv4.
var validIPv4List = ipListValidator(true, false)

// validIPv6List checks server.ipv6.
var validIPv6List = ipListValidator(false, false)

// validDomainList checks the comma-separated domain names (domains[].name).
func validDomainList(s string) error {
	a := &answers.Answers{}
	for _, n := range splitList(s) {
		a.Domains = append(a.Domains, answers.Domain{Name: n})
	}
	return problemAt(a, "domains")
}

// validSelector checks a DKIM selector (domains[].dkim.selector).
func validSelector(s string) error {
	if strings.TrimSpace(s) == "" {
		// Defaults would fill it in a file; on the page it must not be left empty.
		return errors.New("is empty — use letters, digits and hyphens, like 202611 (the default is the year and month)")
	}
	a := &answers.Answers{Domains: []answers.Domain{{Name: "example.com", DKIM: answers.DKIM{Selector: strings.TrimSpace(s)}}}}
	return problemAt(a, "domains[0].dkim.selector")
}

// ruaValidator checks the DMARC report address of domain
// (domains[].dmarc.rua); empty means no reports.
func ruaValidator(domain string) func(string) error {
	return func(s string) error {
		a := &answers.Answers{Domains: []answers.Domain{{Name: domain, DMARC: answers.DMARC{RUA: strings.TrimSpace(s)}}}}
		return problemAt(a, "domains[0].dmarc.rua")
	}
}

// validSmartHost365 checks the Office 365 smart host
// (relay.office365.smart_host).
func validSmartHost365(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{SmartHost: s}}}
	return problemAt(a, "relay.office365.smart_host")
}

// validCertName checks the connector certificate's subject name
// (relay.office365.certificate.name).
func validCertName(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{
		ConnectorAuth: answers.ConnectorCertificate, Certificate: answers.Certificate{Name: strings.TrimSpace(s)},
	}}}
	return problemAt(a, "relay.office365.certificate.name")
}

// validCertPath checks that a certificate or key path is given
// (relay.office365.certificate).
func validCertPath(s string) error {
	if strings.TrimSpace(s) != "" {
		return nil
	}
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{ConnectorAuth: answers.ConnectorCertificate}}}
	err := problemAt(a, "relay.office365.certificate")
	if err != nil && strings.HasPrefix(err.Error(), "needs cert_file") {
		return err
	}
	return errors.New("needs cert_file and key_file for a certificate connector")
}

// validMailbox checks the Office 365 SMTP AUTH mailbox
// (relay.office365.username).
func validMailbox(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeOffice365SMTPAuth, Office365: answers.Office365{Username: strings.TrimSpace(s)}}}
	return problemAt(a, "relay.office365.username")
}

// validRelayHost checks the smarthost (relay.smarthost.host).
func validRelayHost(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: s, Port: 587}}}
	return problemAt(a, "relay.smarthost.host")
}

// validPort checks the smarthost port (relay.smarthost.port).
func validPort(s string) error {
	s = strings.TrimSpace(s)
	port, err := strconv.Atoi(s)
	if err != nil {
		port = -1
	}
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "relay.example.net", Port: port}}}
	if err := problemAt(a, "relay.smarthost.port"); err != nil {
		return errors.New(strings.Replace(err.Error(), strconv.Quote(strconv.Itoa(port)), strconv.Quote(s), 1))
	}
	return nil
}

// validDestinations checks the recipient domains routed through the
// smarthost (relay.smarthost.destinations); empty means all mail.
func validDestinations(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "relay.example.net", Port: 587, Destinations: splitList(s)}}}
	return problemAt(a, "relay.smarthost.destinations")
}

// validRelaySPF checks the SPF mechanisms covering the smarthost
// (relay.smarthost.spf); empty means a:<host>.
func validRelaySPF(s string) error {
	a := &answers.Answers{Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "relay.example.net", Port: 587, SPF: splitList(s)}}}
	return problemAt(a, "relay.smarthost.spf")
}

// validNetworks checks the upstream networks (relay.upstream.networks).
func validNetworks(s string) error {
	nets := splitList(s)
	if len(nets) == 0 {
		return errors.New("is empty — list the upstream servers' addresses, like 198.51.100.7 or 198.51.100.0/24, or let them log in with SASL instead")
	}
	a := &answers.Answers{Relay: answers.Relay{Upstream: answers.Upstream{Networks: nets}}}
	return problemAt(a, "relay.upstream.networks")
}

// validDNSServer checks the RFC 2136 primary server (dns.rfc2136.server):
// an address, with a port unless it is 53.
func validDNSServer(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New("is empty — write the address of the primary server that takes the updates, like 192.0.2.53 or 192.0.2.53:5353")
	}
	a := &answers.Answers{DNS: answers.DNS{Provider: answers.ProviderRFC2136, RFC2136: answers.RFC2136{Server: s}}}
	return problemAt(a, "dns.rfc2136.server")
}

// validTSIGFile checks that a TSIG key file is named
// (dns.rfc2136.tsig_key_file); the file is read when pushing.
func validTSIGFile(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("is empty — give the file with the key the server takes updates signed with (tsig-keygen's output, or one line algorithm:name:secret)")
	}
	return nil
}

// validTokenFile checks the Cloudflare API token file
// (dns.cloudflare.token_file); empty means the environment variable.
func validTokenFile(s string) error {
	if strings.ContainsAny(s, "\n\r") {
		return errors.New("is not a file path — give the path of a file holding the token, not the token")
	}
	return nil
}
