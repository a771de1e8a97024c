package postfix

import (
	"fmt"
	"path"
	"strings"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
)

// Maps returns the Postfix lookup tables the topology uses, each only when
// used: sasl_passwd (SMTP client credentials, secret, 0600) and transport
// (smarthost destinations). They are installed at their Target and need
// "postmap hash:<Target>" afterwards.
//
// No sender_canonical file is generated: office365-smtp-auth rewrites the
// envelope sender with a static: table in main.cf, which needs no file.
func Maps(in generators.Input) ([]generators.File, error) {
	a := in.Answers
	if err := check(a); err != nil {
		return nil, err
	}
	l := in.Layout
	r := a.Relay
	var out []generators.File
	if r.UsesSASLClient() {
		user := r.Smarthost.Username
		if r.Mode == answers.ModeOffice365SMTPAuth {
			user = r.Office365.Username
		}
		pw := in.SASLPassword
		if strings.ContainsAny(pw, "\r\n") {
			return nil, fmt.Errorf("%w: the relay password contains a line break", ErrBadValue)
		}
		placeholder := pw == ""
		if placeholder {
			pw = generators.Placeholder
		}
		out = append(out, generators.File{
			Path:   SASLPasswdPath,
			Target: l.SASLPasswd,
			Mode:   0o600,
			Secret: true,
			Data: []byte(render("postfix/sasl_passwd.tmpl", map[string]any{
				"Placeholder": placeholder,
				"Password":    pw,
				"Username":    user,
				"NextHop":     r.RelayHost(),
				"MapType":     MapType,
				"Target":      l.SASLPasswd,
			})),
		})
	}
	if r.Mode == answers.ModeSmarthost && len(r.Smarthost.Destinations) > 0 {
		var doms []string
		for _, d := range r.Smarthost.Destinations {
			d = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "."), ".")
			if d != "" {
				doms = append(doms, d)
			}
		}
		out = append(out, generators.File{
			Path:   TransportPath,
			Target: l.Transport,
			Mode:   0o644,
			Data: []byte(render("postfix/transport.tmpl", map[string]any{
				"Domains": doms,
				"NextHop": SmarthostTransport + ":" + r.RelayHost(),
				"MapType": MapType,
				"Target":  l.Transport,
			})),
		})
	}
	return out, nil
}

// SMTPDConf returns the Cyrus SASL configuration of the submission service
// (smtpd.conf in the layout's SMTPDConfDir), or nil when upstream servers
// do not authenticate.
func SMTPDConf(in generators.Input) (*generators.File, error) {
	a := in.Answers
	if err := check(a); err != nil {
		return nil, err
	}
	if !a.Relay.Upstream.SASL {
		return nil, nil
	}
	l := in.Layout
	hint := "Debian: chgrp sasl the file, chmod 640, and adduser postfix sasl"
	if l.Distro == answers.DistroRHEL {
		hint = "RHEL: chgrp postfix the file and chmod 640"
	}
	return &generators.File{
		Path:   SMTPDConfPath,
		Target: path.Join(l.SMTPDConfDir, "smtpd.conf"),
		Mode:   0o644,
		Data: []byte(render("postfix/smtpd.conf.tmpl", map[string]any{
			"SASLDB": l.SASLDBFile,
			"Realm":  a.Server.Hostname,
			"Hint":   hint,
		})),
	}, nil
}

// Files returns every Postfix bundle file: main.cf.snippet and
// master.cf.snippet (merged by apply, so no Target), the maps, and
// smtpd.conf when upstream servers authenticate.
func Files(in generators.Input) ([]generators.File, error) {
	settings, err := MainCF(in)
	if err != nil {
		return nil, err
	}
	master, err := MasterCF(in)
	if err != nil {
		return nil, err
	}
	out := []generators.File{
		{Path: MainCFPath, Mode: 0o644, Data: []byte(FormatMainCF(settings))},
		{Path: MasterCFPath, Mode: 0o644, Data: []byte(master)},
	}
	maps, err := Maps(in)
	if err != nil {
		return nil, err
	}
	out = append(out, maps...)
	conf, err := SMTPDConf(in)
	if err != nil {
		return nil, err
	}
	if conf != nil {
		out = append(out, *conf)
	}
	return out, nil
}

// Packages returns the distribution packages the topology needs, in install
// order, for a.Server.Distro (debian or rhel; on RHEL opendkim comes from EPEL).
func Packages(a *answers.Answers) []string {
	rhel := a.Server.Distro == answers.DistroRHEL
	pick := func(deb, rh string) string {
		if rhel {
			return rh
		}
		return deb
	}
	out := []string{"postfix", "opendkim"}
	if !rhel {
		out = append(out, "opendkim-tools") // opendkim-genkey, opendkim-testkey
	}
	// PLAIN/LOGIN mechanisms: the client needs them to log in to the relay,
	// the submission server to offer them.
	if a.Relay.UsesSASLClient() || a.Relay.Upstream.SASL {
		out = append(out, pick("libsasl2-modules", "cyrus-sasl-plain"))
	}
	if a.Relay.Upstream.SASL {
		out = append(out, pick("sasl2-bin", "cyrus-sasl")) // saslpasswd2 and the sasldb plugin
	}
	if a.InboundSPFCheck() {
		out = append(out, pick("postfix-policyd-spf-python", "pypolicyd-spf"))
	}
	return out
}

// Warnings returns what the admin must know before relying on the
// configuration: Microsoft's SMTP AUTH retirement, manual steps without
// which mail stops.
func Warnings(a *answers.Answers) []string {
	var w []string
	r := a.Relay
	switch r.Mode {
	case answers.ModeOffice365SMTPAuth:
		w = append(w,
			"office365-smtp-auth uses Basic authentication for SMTP AUTH, which Microsoft is turning off: it will be off by default from the end of 2026, and then Postfix can no longer log in. Prefer relay.mode office365-connector (an inbound connector, no password).",
			fmt.Sprintf("SMTP AUTH must be enabled on the mailbox %s: Set-CASMailbox -Identity %s -SmtpClientAuthenticationDisabled $false. It does not work while Security Defaults are on in the tenant, nor for accounts that require MFA.", r.Office365.Username, r.Office365.Username),
			fmt.Sprintf("Every envelope sender is rewritten to %s; the From: header is left alone, so mail From: another address is refused (SendAsDenied) unless %s has Send As rights for it.", r.Office365.Username, r.Office365.Username),
			fmt.Sprintf("Microsoft allows %d messages per minute per mailbox; Postfix is limited accordingly, so a burst of mail waits in the queue.", r.Office365.MessagesPerMinute),
		)
	case answers.ModeOffice365Connect:
		if r.Office365.ConnectorAuth == answers.ConnectorCertificate {
			w = append(w, fmt.Sprintf("The client certificate's subject name must equal the connector's -TlsSenderCertificateName (%s) and be issued by a public CA; renew it before it expires, or Office 365 stops accepting the relay's mail.", r.Office365.Certificate.Name))
		} else {
			w = append(w, "The connector recognises this server by its public IPv4 address: if the address changes, mail is no longer accepted until the connector is updated.")
		}
	}
	if r.UsesSASLClient() {
		w = append(w, "postfix/sasl_passwd holds the relay password: keep it mode 0600, run postmap on it after every edit, and fill in the placeholder if the bundle was generated without the password.")
	}
	if r.Upstream.SASL {
		w = append(w, "Upstream servers must log in on port 587: create each user with saslpasswd2 (see postfix/smtpd.conf) and make the sasldb readable by Postfix, or every AUTH fails.")
	}
	if a.InboundSPFCheck() {
		w = append(w, "Inbound SPF checking needs the policyd-spf service in master.cf and its package installed: \"postfix check\" does not notice when it is missing, and then every inbound message is deferred.")
	}
	return w
}
