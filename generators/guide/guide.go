// Package guide writes the human side of a bundle: README.md with the
// ordered steps for the topology, and install.sh, the same steps as
// `sendready apply` as a shell script to review (pure, like every
// generator).
package guide

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/generators/dnszone"
	"github.com/sendready/sendready/generators/postfix"
	"github.com/sendready/sendready/templates"
)

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"sq":    shellQuote,
	"join":  strings.Join,
	"mode":  func(m any) string { return fmt.Sprintf("%04o", m) },
	"inc":   func(i int) int { return i + 1 },
	"upper": strings.ToUpper,
	"split": func(s string) []string { return strings.SplitN(s, ":", 2) },
}).ParseFS(templates.FS, "bundle/*.tmpl"))

// Install is one bundle file apply copies into place.
type Install struct {
	Path, Target string
	Mode         string
	Owner        string // user:group
	Key          bool   // a private key: never replaced when different
}

type data struct {
	In         generators.Input
	A          *answers.Answers
	Topology   string
	Packages   []string
	InstallCmd string
	Warnings   []string
	Settings   []postfix.Setting
	Services   []postfix.Service
	Installs   []Install
	Maps       []string // postmap'ed tables (targets)
	Records    []dnszoneRecord
	PTRs       []dnszoneRecord
	Zones      []string
	Signers    []answers.Signer
	Ed25519    bool
	EdUnit     string
	Backup     string
	Office365  bool
}

type dnszoneRecord struct{ Name, Type, Value string }

// Files returns README.md and install.sh for a bundle holding files (every
// other file of the bundle, keys included).
func Files(in generators.Input, files []generators.File) ([]generators.File, error) {
	d, err := collect(in, files)
	if err != nil {
		return nil, err
	}
	var out []generators.File
	for _, f := range []struct {
		name, tmpl string
		mode       fs.FileMode
	}{{"README.md", "README.md.tmpl", 0o644}, {"install.sh", "install.sh.tmpl", 0o755}} {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, f.tmpl, d); err != nil {
			return nil, fmt.Errorf("guide: %s: %w", f.name, err)
		}
		out = append(out, generators.File{Path: f.name, Mode: f.mode, Data: b.Bytes()})
	}
	return out, nil
}

func collect(in generators.Input, files []generators.File) (data, error) {
	a := in.Answers
	settings, err := postfix.MainCF(in)
	if err != nil {
		return data{}, err
	}
	services, err := postfix.Services(in)
	if err != nil {
		return data{}, err
	}
	recs, err := dnszone.Records(in)
	if err != nil {
		return data{}, err
	}
	d := data{
		In: in, A: a, Topology: topology(a), Packages: postfix.Packages(a),
		Warnings: postfix.Warnings(a), Settings: settings, Services: services,
		Signers: a.Signers(), Ed25519: a.UsesEd25519(), Backup: in.Layout.BackupDir,
		Office365: a.Relay.IsOffice365(),
	}
	if a.Server.Distro == answers.DistroRHEL {
		d.InstallCmd = "dnf install -y epel-release && dnf install -y " + strings.Join(d.Packages, " ")
	} else {
		d.InstallCmd = "apt-get install -y " + strings.Join(d.Packages, " ")
	}
	zones := map[string]bool{}
	for _, r := range recs {
		rec := dnszoneRecord{Name: r.Name, Type: r.Type, Value: r.Value}
		if r.Type == "PTR" {
			d.PTRs = append(d.PTRs, rec)
			continue
		}
		zones[r.Zone] = true
		d.Records = append(d.Records, rec)
	}
	for z := range zones {
		d.Zones = append(d.Zones, z)
	}
	sort.Strings(d.Zones)
	owner := "opendkim:opendkim"
	for _, f := range files {
		if f.Target == "" {
			continue
		}
		i := Install{Path: f.Path, Target: f.Target, Mode: fmt.Sprintf("%04o", uint32(f.Mode.Perm())), Owner: "root:root"}
		if strings.HasPrefix(f.Path, "opendkim/keys/") {
			i.Owner, i.Key = owner, true
		}
		if strings.HasSuffix(f.Target, ".service") {
			d.EdUnit = path.Base(f.Target)
		}
		if strings.HasPrefix(f.Path, "postfix/") && (path.Base(f.Path) == "sasl_passwd" || path.Base(f.Path) == "transport" || path.Base(f.Path) == "sender_canonical") {
			d.Maps = append(d.Maps, f.Target)
		}
		d.Installs = append(d.Installs, i)
	}
	return d, nil
}

func topology(a *answers.Answers) string {
	var s string
	switch a.Relay.Mode {
	case answers.ModeDirect:
		s = "direct sending: this server delivers to the recipients' mail servers"
	case answers.ModeOffice365Connect:
		s = "relaying into Office 365 through an inbound connector (" + a.Relay.Office365.ConnectorAuth + ")"
	case answers.ModeOffice365SMTPAuth:
		s = "relaying into Office 365 by SMTP AUTH as " + a.Relay.Office365.Username
	case answers.ModeSmarthost:
		s = "relaying through the smarthost " + a.Relay.Smarthost.Host
		if len(a.Relay.Smarthost.Destinations) > 0 {
			s += " for " + strings.Join(a.Relay.Smarthost.Destinations, ", ")
		}
	}
	if a.Relay.RelaysForUpstream() {
		s += "; relaying for upstream servers"
		if a.Relay.Upstream.SASL {
			s += " that log in on port 587"
		}
	}
	return s
}

// shellQuote quotes s for POSIX sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
