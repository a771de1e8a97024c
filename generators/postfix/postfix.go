// Package postfix generates the Postfix part of a bundle: the main.cf
// settings (applied with one postconf -e call), the master.cf services, the
// lookup tables (sasl_passwd, transport) and the Cyrus SASL configuration of
// the submission service, for every relay topology. It also lists the
// packages a topology needs and the warnings the admin must read.
//
// Everything here is a pure function of generators.Input: no file I/O,
// clock, environment or randomness.
package postfix

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"text/template"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
	"github.com/sendready/sendready/templates"
)

// ErrIncomplete is returned when the answers lack something the Postfix
// configuration needs (a host name, a relay host, a user name).
var ErrIncomplete = errors.New("postfix: incomplete answers")

// ErrBadValue is returned when an answer would produce a value that Postfix
// cannot take in one postconf -e argument or one table line (a newline, a
// space in a host name).
var ErrBadValue = errors.New("postfix: unusable value")

// Bundle-relative paths of the files this package generates.
const (
	MainCFPath     = "postfix/main.cf.snippet"
	MasterCFPath   = "postfix/master.cf.snippet"
	SASLPasswdPath = "postfix/sasl_passwd"
	TransportPath  = "postfix/transport"
	SMTPDConfPath  = "postfix/smtpd.conf"
)

// Ports and addresses the generated configuration uses.
const (
	// MilterRSA is the OpenDKIM instance that signs with RSA keys.
	MilterRSA = "inet:127.0.0.1:8891"
	// MilterEd25519 is the second OpenDKIM instance (SignatureAlgorithm
	// ed25519-sha256), used when a domain signs with ed25519.
	MilterEd25519 = "inet:127.0.0.1:8892"
	// PolicydSPFService is the master.cf name of the SPF policy service.
	PolicydSPFService = "policyd-spf"
	// SmarthostTransport is the master.cf name of the transport that carries
	// mail for the smarthost destinations (smarthost mode with destinations).
	SmarthostTransport = "smarthost"
	// SubmissionService is the master.cf name of the SASL submission service
	// for upstream servers (port 587).
	SubmissionService = "submission"
)

// MapType is the Postfix lookup table type of the generated maps
// (postmap hash:FILE).
const MapType = "hash"

// Setting is one main.cf parameter.
type Setting struct {
	Key   string
	Value string
	// Comment says why the setting is there; it becomes "# ..." lines above
	// the setting.
	Comment string
}

// MainCF returns the main.cf settings of the topology, in a stable order.
// Every pair can be given to one "postconf -e key=value ..." call.
func MainCF(in generators.Input) ([]Setting, error) {
	a := in.Answers
	if err := check(a); err != nil {
		return nil, err
	}
	l := in.Layout
	r := a.Relay
	var s []Setting
	add := func(k, v, why string) { s = append(s, Setting{Key: k, Value: v, Comment: why}) }

	add("myhostname", a.Server.Hostname,
		"The name this server gives in HELO/EHLO. Receivers (and Office 365) compare it with the PTR of the sending IP, so it must resolve to that IP and the IP's PTR must point back to it.")

	if len(a.IPv6Addrs()) == 0 {
		add("inet_protocols", "ipv4",
			"No IPv6 sending address is declared: sending over IPv6 from an address without PTR and SPF coverage gets mail rejected. Postfix must be stopped and started (not reloaded) after changing this.")
	} else {
		add("inet_protocols", "all",
			"IPv6 sending addresses are declared (and covered by SPF and PTR), so Postfix may use both IPv4 and IPv6. Postfix must be stopped and started (not reloaded) after changing this.")
	}

	nets := []string{"127.0.0.0/8", "[::1]/128"}
	for _, p := range a.UpstreamPrefixes() {
		if p.Addr().Is6() {
			nets = append(nets, fmt.Sprintf("[%s]/%d", p.Addr(), p.Bits()))
		} else {
			nets = append(nets, p.String())
		}
	}
	why := "Only this host may relay without authentication."
	if len(a.Relay.Upstream.Networks) > 0 {
		why = "This host and the upstream servers (relay.upstream.networks) may relay without authentication; OpenDKIM's TrustedHosts lists the same networks, so their mail is signed."
	}
	add("mynetworks", strings.Join(nets, " "), why)

	milters := MilterRSA
	if a.UsesEd25519() {
		milters += ", " + MilterEd25519
		why = "Sign mail with OpenDKIM: the RSA instance on 8891 and the ed25519 instance on 8892 (one signing algorithm per OpenDKIM instance). 127.0.0.1, not localhost: localhost may resolve to ::1 first."
	} else {
		why = "Sign mail with OpenDKIM on 127.0.0.1:8891 (127.0.0.1, not localhost: localhost may resolve to ::1 first)."
	}
	add("smtpd_milters", milters, why)
	add("non_smtpd_milters", "$smtpd_milters",
		"Also sign mail submitted locally (sendmail, cron, web applications), not only mail received over SMTP.")
	add("milter_default_action", "accept",
		"If OpenDKIM is down, deliver the mail unsigned instead of rejecting or deferring it.")
	add("milter_protocol", "6", "The milter protocol version OpenDKIM speaks.")

	// Outgoing TLS.
	if r.Mode == answers.ModeDirect {
		add("smtp_tls_security_level", "may",
			"Use TLS with every receiving server that offers it (opportunistic); servers without TLS still get their mail.")
	} else if r.Mode == answers.ModeSmarthost && len(r.Smarthost.Destinations) > 0 {
		add("smtp_tls_security_level", "may",
			"Mail for other destinations goes directly to their MX: TLS when offered. The smarthost transport in master.cf overrides this with encrypt.")
	} else {
		add("smtp_tls_security_level", "encrypt",
			"All mail goes to the relay: refuse to send it without TLS (the relay requires it, and credentials and mail must not cross the network in clear).")
	}
	if l.Distro == answers.DistroRHEL {
		add("smtp_tls_CAfile", path.Join(l.CAPath, "ca-bundle.crt"),
			"Trusted CAs for logging/verifying server certificates. RHEL ships one bundle file and /etc/pki/tls/certs has no c_rehash links, so a CApath would find nothing; a CAfile is also read before the smtp client enters a chroot.")
	} else {
		add("smtp_tls_CApath", l.CAPath,
			"Trusted CAs for logging/verifying server certificates (hashed by update-ca-certificates; Debian copies it into the Postfix chroot on start).")
	}

	switch r.Mode {
	case answers.ModeOffice365Connect:
		add("relayhost", r.RelayHost(),
			"Relay all mail into Office 365 through the inbound connector (the smart host shown in the Microsoft 365 admin centre). Brackets: no MX lookup.")
		add("smtp_address_preference", "ipv4",
			"Connect to Microsoft over IPv4 first: the connector recognises this server by its IPv4 address (and SPF lists it).")
		if r.Office365.ConnectorAuth == answers.ConnectorCertificate {
			c := r.Office365.Certificate
			add("smtp_tls_cert_file", sysPath(l, c.CertFile),
				fmt.Sprintf("Client certificate presented to Office 365. Its subject name must equal the connector's -TlsSenderCertificateName (%s), and it must come from a public CA.", c.Name))
			add("smtp_tls_key_file", sysPath(l, c.KeyFile),
				"Private key of the client certificate (mode 0600, root-owned).")
		}
	case answers.ModeOffice365SMTPAuth:
		add("relayhost", r.RelayHost(),
			"Relay all mail through Microsoft's SMTP AUTH endpoint (submission port 587, STARTTLS).")
		addSASLClient(add, l)
		add("sender_canonical_maps", "static:"+r.Office365.Username,
			"Office 365 accepts only mail whose envelope sender is the authenticated mailbox (or one it may send as): rewrite every envelope sender to it. A static: table needs no map file.")
		add("sender_canonical_classes", "envelope_sender",
			"Rewrite only the envelope sender (Return-Path); the From: header stays as written.")
		delay := rateDelay(r.Office365.MessagesPerMinute)
		add("smtp_destination_rate_delay", delay,
			fmt.Sprintf("Microsoft limits a mailbox to %d messages per minute: send at most one message per %s to the relay host (the one destination all mail goes to). Excess mail waits in the queue instead of bouncing.", r.Office365.MessagesPerMinute, delay))
		add("smtp_destination_concurrency_limit", "1",
			"One connection at a time to Microsoft (a rate delay implies it; stated for clarity).")
		add("smtp_destination_concurrency_failed_cohort_limit", "10",
			"With a rate delay, one failed connection would otherwise mark the relay dead and defer all queued mail (postconf(5), default_destination_rate_delay).")
	case answers.ModeSmarthost:
		if len(r.Smarthost.Destinations) == 0 {
			add("relayhost", r.RelayHost(),
				"Relay all mail through the smarthost. Brackets: no MX lookup.")
		} else {
			add("transport_maps", MapType+":"+l.Transport,
				"Only the domains in the transport map go through the smarthost (transport \"smarthost\" in master.cf); everything else is delivered directly.")
		}
		if r.Smarthost.Username != "" {
			addSASLClient(add, l)
		}
	}

	if r.Upstream.SASL {
		if l.Distro == answers.DistroRHEL {
			// Debian's Postfix ignores this parameter (patch 07_sasl_config:
			// it always reads $config_directory/sasl, which is
			// layout.SMTPDConfDir), so it is only set where it works.
			add("cyrus_sasl_config_path", l.SMTPDConfDir,
				"Where the submission service finds smtpd.conf (Cyrus SASL with the sasldb), stated so it does not depend on the built-in default.")
		}
		cert, key := serverCert(l)
		add("smtpd_tls_cert_file", cert,
			"Server certificate for STARTTLS on the submission port (the distribution's self-signed one; replace it with a real certificate for the host name if upstream servers verify it).")
		add("smtpd_tls_key_file", key, "Private key of the server certificate.")
	}

	if a.InboundSPFCheck() {
		add("smtpd_recipient_restrictions",
			"permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service unix:private/"+PolicydSPFService,
			"Check the SPF of inbound mail with policyd-spf. The policy check comes after reject_unauth_destination, or this server becomes an open relay. If the policyd-spf service is missing, every inbound message is deferred.")
		add(PolicydSPFService+"_time_limit", "3600",
			"spawn(8) kills a child after its time limit (default 1000s); policyd-spf is a long-lived process that answers many requests, so allow an hour, as Postfix's SMTPD_POLICY_README and the policyd-spf docs do.")
	}

	for _, st := range s {
		if strings.ContainsAny(st.Key+st.Value, "\n\r") {
			return nil, fmt.Errorf("%w: %s contains a line break", ErrBadValue, st.Key)
		}
	}
	return s, nil
}

// addSASLClient adds the SMTP client authentication settings.
func addSASLClient(add func(k, v, why string), l layout.Layout) {
	add("smtp_sasl_auth_enable", "yes", "Authenticate to the relay host with the user name and password in sasl_passwd.")
	add("smtp_sasl_password_maps", MapType+":"+l.SASLPasswd,
		"The credentials, keyed by next hop ([host]:port). Run postmap after editing it; keep it mode 0600.")
	add("smtp_sasl_security_options", "noplaintext, noanonymous",
		"Never send the password in clear: without TLS no plaintext mechanism (PLAIN/LOGIN) may be used (this is Postfix's default, stated explicitly).")
	add("smtp_sasl_tls_security_options", "noanonymous",
		"Inside TLS, plaintext mechanisms (PLAIN/LOGIN, what the relay offers) are fine; anonymous login is not.")
}

// rateDelay turns a per-minute message limit into a Postfix rate delay
// (whole seconds, rounded up so the limit is never exceeded; at least 1s).
func rateDelay(perMinute int) string {
	if perMinute <= 0 {
		perMinute = 30
	}
	d := (60 + perMinute - 1) / perMinute
	return fmt.Sprintf("%ds", d)
}

// serverCert is the distribution's default self-signed server certificate.
func serverCert(l layout.Layout) (cert, key string) {
	if l.Distro == answers.DistroRHEL {
		return layout.Join(l.Root, "/etc/pki/tls/certs/postfix.pem"), layout.Join(l.Root, "/etc/pki/tls/private/postfix.key")
	}
	return layout.Join(l.Root, "/etc/ssl/certs/ssl-cert-snakeoil.pem"), layout.Join(l.Root, "/etc/ssl/private/ssl-cert-snakeoil.key")
}

// sysPath puts an absolute path from the answers (a system path on the
// target machine) under the layout root; a relative path is left as is.
func sysPath(l layout.Layout, p string) string {
	if path.IsAbs(p) {
		return layout.Join(l.Root, p)
	}
	return p
}

// check rejects answers this package cannot turn into a configuration.
func check(a *answers.Answers) error {
	if a == nil {
		return fmt.Errorf("%w: no answers", ErrIncomplete)
	}
	if a.Server.Hostname == "" {
		return fmt.Errorf("%w: server.hostname is empty; set it to the FQDN the server says in HELO", ErrIncomplete)
	}
	r := a.Relay
	switch r.Mode {
	case answers.ModeDirect:
	case answers.ModeOffice365Connect:
		if r.Office365.SmartHost == "" {
			return fmt.Errorf("%w: relay.office365.smart_host is empty; copy it from the Microsoft 365 admin centre", ErrIncomplete)
		}
		if r.Office365.ConnectorAuth == answers.ConnectorCertificate {
			c := r.Office365.Certificate
			if c.CertFile == "" || c.KeyFile == "" {
				return fmt.Errorf("%w: relay.office365.certificate needs cert_file and key_file for a certificate connector", ErrIncomplete)
			}
		}
	case answers.ModeOffice365SMTPAuth:
		if r.Office365.Username == "" {
			return fmt.Errorf("%w: relay.office365.username is empty; set it to the mailbox Postfix logs in as", ErrIncomplete)
		}
	case answers.ModeSmarthost:
		if r.Smarthost.Host == "" || r.Smarthost.Port == 0 {
			return fmt.Errorf("%w: relay.smarthost needs host and port", ErrIncomplete)
		}
	default:
		return fmt.Errorf("%w: relay.mode %q is not one of direct, office365-connector, office365-smtp-auth, smarthost", ErrBadValue, r.Mode)
	}
	for _, f := range []struct {
		name, value string
		colonOK     bool
	}{
		{"server.hostname", a.Server.Hostname, false},
		{"relay.office365.smart_host", r.Office365.SmartHost, false},
		{"relay.office365.username", r.Office365.Username, false},
		{"relay.smarthost.host", r.Smarthost.Host, false},
		{"relay.smarthost.username", r.Smarthost.Username, false},
		{"relay.smarthost.destinations", strings.Join(r.Smarthost.Destinations, ","), false},
		{"relay.office365.certificate.cert_file", r.Office365.Certificate.CertFile, true},
		{"relay.office365.certificate.key_file", r.Office365.Certificate.KeyFile, true},
	} {
		if strings.ContainsAny(f.value, " \t\r\n") || !f.colonOK && strings.Contains(f.value, ":") {
			return fmt.Errorf("%w: %s %q contains a space, a line break or a colon; Postfix cannot use it", ErrBadValue, f.name, f.value)
		}
	}
	return nil
}

// FormatMainCF renders settings as the main.cf.snippet file: a header, then
// for each setting its comment and "key = value".
func FormatMainCF(settings []Setting) string {
	return render("postfix/main.cf.snippet.tmpl", settings)
}

var funcs = template.FuncMap{
	"comment": commentLines,
	"entry":   func(s Service) string { return s.Block() },
}

var tmpl = template.Must(template.New("").Funcs(funcs).ParseFS(templates.FS, "postfix/*.tmpl"))

// render executes a template from templates/postfix. The templates are
// fixed and the data is ours, so a failure is a programming error.
func render(name string, data any) string {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, path.Base(name), data); err != nil {
		panic(fmt.Sprintf("postfix: template %s: %v", name, err))
	}
	out := b.String()
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// commentLines wraps text into "# " lines of at most 76 characters.
func commentLines(text string) string {
	var lines []string
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 76 && line != "#" {
			lines = append(lines, line)
			line = "#"
		}
		line += " " + w
	}
	lines = append(lines, line)
	return strings.Join(lines, "\n")
}
