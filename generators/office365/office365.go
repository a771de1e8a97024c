// Package office365 generates the Exchange Online side of the Office 365
// relay modes: a PowerShell script that creates the inbound connector (or
// turns on SMTP AUTH for the relay mailbox) and prepares Microsoft's own
// DKIM signing. The scripts are read and run by an administrator; apply
// does not install them.
package office365

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/templates"
)

// Bundle paths of the scripts.
const (
	ConnectorPath = "office365/connector.ps1"
	SMTPAuthPath  = "office365/smtp-auth.ps1"
)

// ErrMissing is returned when an answer the script needs is empty.
var ErrMissing = errors.New("office365: missing answer")

// ErrBadValue is returned when an answer holds a control character (a line
// break would end a comment and run the rest as a command).
var ErrBadValue = errors.New("office365: control character in answer")

// Files returns the PowerShell script of the Office 365 mode, or nothing
// when mail is not relayed into Office 365.
func Files(in generators.Input) ([]generators.File, error) {
	if in.Answers == nil {
		return nil, errors.New("office365: no answers")
	}
	a := in.Answers
	if !a.Relay.IsOffice365() {
		return nil, nil
	}
	if len(a.Domains) == 0 {
		return nil, fmt.Errorf("%w: domains: list the domains this server sends for", ErrMissing)
	}
	o := a.Relay.Office365
	if err := checkValues(a); err != nil {
		return nil, err
	}
	d := data{
		Version:  in.Version,
		Hostname: a.Server.Hostname,
		Name:     Quote("sendready " + a.Server.Hostname),
	}
	var names []string
	for _, dom := range a.Domains {
		names = append(names, dom.Name)
	}
	d.DomainList = List(names)
	for _, s := range a.Signers() {
		if !s.External {
			d.Selectors = append(d.Selectors, s.KeyName())
		}
	}
	if len(d.Selectors) == 0 {
		d.Selectors = []string{"none: no key of its own"}
	}

	var path, tmpl string
	switch a.Relay.Mode {
	case answers.ModeOffice365Connect:
		path, tmpl = ConnectorPath, "connector.ps1.tmpl"
		if o.ConnectorAuth == answers.ConnectorCertificate {
			if o.Certificate.Name == "" {
				return nil, fmt.Errorf("%w: relay.office365.certificate.name: the certificate's subject name the connector matches", ErrMissing)
			}
			d.Certificate, d.CertName = true, Quote(o.Certificate.Name)
		} else {
			var ips []string
			for _, ip := range a.IPv4Addrs() {
				ips = append(ips, ip.String())
			}
			if len(ips) == 0 {
				return nil, fmt.Errorf("%w: server.ipv4: an IP connector needs this server's public IPv4 address (or use connector_auth: certificate)", ErrMissing)
			}
			d.IPList = List(ips)
		}
	case answers.ModeOffice365SMTPAuth:
		path, tmpl = SMTPAuthPath, "smtp-auth.ps1.tmpl"
		if o.Username == "" {
			return nil, fmt.Errorf("%w: relay.office365.username: the mailbox Postfix logs in as", ErrMissing)
		}
		d.Username, d.User, d.Rate = o.Username, Quote(o.Username), o.MessagesPerMinute
		if d.Rate == 0 {
			d.Rate = 30
		}
	}
	var b bytes.Buffer
	if err := tmpls.ExecuteTemplate(&b, tmpl, d); err != nil {
		return nil, fmt.Errorf("office365: rendering %s: %w", tmpl, err)
	}
	return []generators.File{{Path: path, Mode: 0o644, Data: b.Bytes()}}, nil
}

type data struct {
	Version, Hostname string
	// Name, DomainList, IPList, CertName and User are PowerShell literals,
	// already quoted.
	Name, DomainList, IPList, CertName, User string
	Certificate                              bool
	Username                                 string // for comments
	Rate                                     int
	Selectors                                []string
}

// checkValues refuses control characters in every answer that reaches
// the script.
func checkValues(a *answers.Answers) error {
	o := a.Relay.Office365
	vals := [][2]string{
		{"server.hostname", a.Server.Hostname},
		{"relay.office365.username", o.Username},
		{"relay.office365.certificate.name", o.Certificate.Name},
	}
	for i, d := range a.Domains {
		vals = append(vals,
			[2]string{fmt.Sprintf("domains[%d].name", i), d.Name},
			[2]string{fmt.Sprintf("domains[%d].dkim.selector", i), d.DKIM.Selector})
	}
	for _, v := range vals {
		if strings.ContainsFunc(v[1], func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u0085' || r == '\u2028' || r == '\u2029' }) {
			return fmt.Errorf("%w: %s %q", ErrBadValue, v[0], v[1])
		}
	}
	return nil
}

var tmpls = template.Must(template.New("").ParseFS(templates.FS, "office365/*.tmpl"))

// Quote returns s as a single-quoted PowerShell string. Inside single
// quotes only the quote itself is special; PowerShell also takes the
// typographic single quotes (U+2018–U+201B) as quotes, so each is doubled.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201A', '\u201B':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}

// List returns ss as comma-separated single-quoted PowerShell strings, for
// use inside @( ).
func List(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = Quote(s)
	}
	return strings.Join(q, ", ")
}
