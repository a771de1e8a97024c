package tui

import (
	"fmt"
	"strings"
	"sync"

	"charm.land/huh/v2"

	"github.com/sendready/sendready/answers"
)

// modeEffects says in one sentence what each topology changes.
var modeEffects = map[string]string{
	answers.ModeDirect:            "This server delivers to the recipients' MX: SPF lists its addresses, MX points here, its PTR must name it; DKIM signs here.",
	answers.ModeOffice365Connect:  "Mail goes into Office 365 through an inbound connector: SPF adds Office 365, MX points to Office 365; DKIM signs here.",
	answers.ModeOffice365SMTPAuth: "Postfix logs in to Office 365 as one mailbox (Basic auth, which Microsoft is retiring): SPF adds Office 365, MX points there.",
	answers.ModeSmarthost:         "Mail leaves through your relay: SPF covers the relay, the relay's PTR matters rather than this one's; DKIM still signs here.",
}

var upstreamEffects = map[string]string{
	upstreamNone:     "Only mail from this server itself is signed and sent.",
	upstreamNetworks: "Servers at the addresses you list hand their mail here; it is DKIM-signed and sent on (mynetworks).",
	upstreamSASL:     "Upstream servers log in on port 587 (SASL) and their mail is signed and sent on.",
	upstreamBoth:     "Listed networks relay without login; others log in on port 587.",
}

// topologyGroup asks how mail leaves this server and whether it relays
// for other servers.
func topologyGroup(d *draft) *huh.Group {
	mode := d.choose("How mail leaves this server", modeEffects[d.Mode], &d.Mode,
		huh.NewOption("Directly to the recipients", answers.ModeDirect),
		huh.NewOption("Into Office 365 through a connector", answers.ModeOffice365Connect),
		huh.NewOption("Into Office 365 by SMTP AUTH (retiring)", answers.ModeOffice365SMTPAuth),
		huh.NewOption("Through a smarthost (another relay)", answers.ModeSmarthost),
	)
	up := d.choose("Does this box relay for other servers?", upstreamEffects[d.Upstream], &d.Upstream,
		huh.NewOption("No, only its own mail", upstreamNone),
		huh.NewOption("Yes, for the networks I list", upstreamNetworks),
		huh.NewOption("Yes, they log in (SASL)", upstreamSASL),
		huh.NewOption("Both", upstreamBoth),
	)
	if d.accessible {
		return huh.NewGroup(note("What each choice changes", effectsText(modeEffects, answers.ModeDirect, answers.ModeOffice365Connect, answers.ModeOffice365SMTPAuth, answers.ModeSmarthost)), mode,
			note("Relaying for other servers", effectsText(upstreamEffects, upstreamNone, upstreamNetworks, upstreamSASL, upstreamBoth)), up).Title("Topology")
	}
	// huh evaluates DescriptionFunc in a Cmd, off the Update goroutine:
	// the bound values are written and read under the draft's lock.
	modeAcc, upAcc := &lockedAccessor{mu: &d.mu, p: &d.Mode}, &lockedAccessor{mu: &d.mu, p: &d.Upstream}
	mode.Accessor(modeAcc).DescriptionFunc(func() string { return modeEffects[modeAcc.Get()] }, &d.Mode)
	up.Accessor(upAcc).DescriptionFunc(func() string { return upstreamEffects[upAcc.Get()] }, &d.Upstream)
	return huh.NewGroup(mode, up).Title("Topology")
}

func effectsText(m map[string]string, keys ...string) string {
	var b strings.Builder
	for i, k := range keys {
		fmt.Fprintf(&b, "%d. %s\n", i+1, m[k])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// relayGroup asks the settings of the chosen relay.
func relayGroup(d *draft) *huh.Group {
	switch d.Mode {
	case answers.ModeOffice365Connect:
		if d.SmartHost365 == "" {
			if names := d.domainNames(); len(names) > 0 {
				d.SmartHost365 = answers.Office365SmartHost(names[0])
			}
		}
		fields := []huh.Field{
			d.input("Office 365 smart host", "As shown in the Microsoft 365 admin centre (Domains → DNS records → MX).", &d.SmartHost365, validSmartHost365),
			d.choose("Connector authentication", "How Office 365 recognises this server: its IPv4 address, or a TLS certificate it presents.", &d.ConnectorAuth,
				huh.NewOption("By IP address", answers.ConnectorIP),
				huh.NewOption("By certificate", answers.ConnectorCertificate),
			),
		}
		if w := connectorWarning(d); w != "" {
			fields = append(fields, note("Careful", w))
		}
		return huh.NewGroup(fields...).Title("Office 365 connector")
	case answers.ModeOffice365SMTPAuth:
		return huh.NewGroup(
			note("Basic-auth SMTP AUTH is being retired", "Microsoft turns it off by default from the end of 2026; it needs SMTP AUTH enabled on the mailbox and fails with Security Defaults. Prefer a connector."),
			d.input("Mailbox", "The licensed mailbox Postfix logs in as; senders are rewritten to it.", &d.Mailbox, validMailbox),
			d.secret("Password", "Written only to postfix/sasl_passwd (0600) in the bundle, never to the answers file.", &d.Password),
		).Title("Office 365 SMTP AUTH")
	default:
		return huh.NewGroup(
			d.input("Smarthost", "The relay's host name (or address), like relay.example.net.", &d.RelayHost, validRelayHost),
			d.input("Port", "587 (submission with STARTTLS) unless the relay says otherwise; 465 or 25.", &d.RelayPort, validPort),
			d.optional("User name", "For SASL login at the relay; empty when the relay trusts this server's address.", &d.RelayUser, func(string) error { return nil }),
			d.secret("Password", "Written only to postfix/sasl_passwd (0600) in the bundle, never to the answers file.", &d.Password),
			d.optional("Only for these recipient domains", "Comma-separated; empty: all mail goes through the relay.", &d.Destinations, validDestinations),
			d.optional("Relay's SPF", "SPF mechanisms covering the relay, like include:_spf.relay.example.net; empty: a:<host>.", &d.RelaySPF, validRelaySPF),
		).Title("Smarthost")
	}
}

// connectorWarning says when the addresses don't suit a connector by IP.
func connectorWarning(d *draft) string {
	v4, v6 := splitList(d.IPv4), splitList(d.IPv6)
	var w []string
	if len(v4) == 0 && len(v6) > 0 {
		w = append(w, "This server has only IPv6 addresses: a connector by IP accepts IPv4 only; use a certificate.")
	} else if len(v6) > 0 {
		w = append(w, "By IP, Postfix sends to Office 365 over IPv4 only: remove the IPv6 addresses, or use a certificate.")
	}
	if len(v4) > 1 {
		w = append(w, fmt.Sprintf("This server has %d IPv4 addresses: each must be in the connector (connector.ps1 lists them).", len(v4)))
	}
	return strings.Join(w, " ")
}

// certGroup asks for the certificate of a certificate connector.
func certGroup(d *draft) *huh.Group {
	if d.CertName == "" {
		d.CertName = d.Hostname
	}
	return huh.NewGroup(
		d.input("Certificate file", "Full chain from a public CA, PEM, as Postfix reads it (e.g. /etc/letsencrypt/live/<host>/fullchain.pem).", &d.CertFile, validCertPath),
		d.input("Key file", "The certificate's private key, PEM.", &d.KeyFile, validCertPath),
		d.input("Certificate name", "The name on the certificate the connector matches; one of your accepted domains.", &d.CertName, validCertName),
	).Title("Connector certificate")
}

// upstreamGroup asks which networks may relay through this box.
func upstreamGroup(d *draft) *huh.Group {
	return huh.NewGroup(
		d.input("Upstream networks", "Addresses or networks of the servers that relay here, comma-separated, like 198.51.100.7, 10.0.0.0/24.", &d.Networks, validNetworks),
	).Title("Upstream servers")
}

// lockedAccessor binds a select to a draft field under a lock.
type lockedAccessor struct {
	mu *sync.Mutex
	p  *string
}

func (a *lockedAccessor) Get() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return *a.p
}

func (a *lockedAccessor) Set(v string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	*a.p = v
}
