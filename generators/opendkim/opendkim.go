// Package opendkim generates OpenDKIM's configuration: opendkim.conf, the
// KeyTable, SigningTable and TrustedHosts, and — when some domain signs
// with ed25519 — a second instance with its own conf, tables and systemd
// unit, because OpenDKIM signs with one algorithm per instance.
//
// It is pure: private keys are written by a separate step; KeyFiles only
// says where they go.
package opendkim

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"text/template"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
	"github.com/sendready/sendready/templates"
)

// Ports the two instances listen on, on 127.0.0.1.
const (
	RSAPort     = 8891
	Ed25519Port = 8892
)

// Bundle paths of the generated files.
const (
	ConfPath         = "opendkim/opendkim.conf"
	KeyTablePath     = "opendkim/KeyTable"
	SigningTablePath = "opendkim/SigningTable"
	TrustedHostsPath = "opendkim/TrustedHosts"
	Ed25519ConfPath  = "opendkim/ed25519/opendkim.conf"
	Ed25519KeysPath  = "opendkim/ed25519/KeyTable"
	Ed25519SignPath  = "opendkim/ed25519/SigningTable"
	Ed25519UnitPath  = "opendkim/ed25519/opendkim-ed25519.service"
)

// Ed25519Unit is the system path of the second instance's systemd unit
// (under the layout's root).
const Ed25519Unit = "/etc/systemd/system/opendkim-ed25519.service"

// ErrTrustAll is returned when an upstream network covers every address
// (0.0.0.0/0, ::/0): OpenDKIM would sign mail from anyone as ours.
var ErrTrustAll = errors.New("opendkim: refusing to trust every address")

// ErrBadValue is returned when a name or path would break OpenDKIM's
// line-oriented tables (whitespace, "#", or ":" where ":" separates fields).
var ErrBadValue = errors.New("opendkim: value unusable in an OpenDKIM table")

// KeyFile is a private key the bundle must carry for OpenDKIM.
type KeyFile struct {
	Signer answers.Signer
	// BundlePath is "opendkim/keys/<domain>/<selector>.private".
	BundlePath string
	// Target is layout.KeyFile(domain, selector).
	Target string
}

// KeyFiles lists the private key every signer with a local key (not
// External) needs, RSA and ed25519 alike, in answers order.
func KeyFiles(in generators.Input) []KeyFile {
	var out []KeyFile
	for _, s := range in.Answers.Signers() {
		if s.External {
			continue
		}
		out = append(out, KeyFile{
			Signer:     s,
			BundlePath: path.Join("opendkim/keys", s.Domain, s.Selector+".private"),
			Target:     in.Layout.KeyFile(s.Domain, s.Selector),
		})
	}
	return out
}

// Milters returns the milter addresses Postfix must use, in order: the RSA
// instance, then the ed25519 instance when there is one.
func Milters(a *answers.Answers) []string {
	m := []string{"inet:127.0.0.1:" + strconv.Itoa(RSAPort)}
	if a.UsesEd25519() {
		m = append(m, "inet:127.0.0.1:"+strconv.Itoa(Ed25519Port))
	}
	return m
}

// Files returns the OpenDKIM configuration files of the bundle.
func Files(in generators.Input) ([]generators.File, error) {
	if in.Answers == nil {
		return nil, errors.New("opendkim: no answers")
	}
	a, l := in.Answers, in.Layout
	if err := checkValues(in); err != nil {
		return nil, err
	}
	trusted, err := trustedHosts(a)
	if err != nil {
		return nil, err
	}
	ed := a.UsesEd25519()
	debian := l.Distro != answers.DistroRHEL

	conf := confData{
		Target: l.OpenDKIMConf, Version: in.Version, Hostname: a.Server.Hostname,
		Distro: distroName(l.Distro), Debian: debian, Port: RSAPort,
		KeyTable: l.KeyTable, SigningTable: l.SigningTable, TrustedHosts: l.TrustedHosts,
		PidFile: l.PidFile, UserID: l.UserID, UMask: l.UMask,
	}
	if ed {
		conf.OtherConf = l.Ed25519Conf
		conf.OtherSocket = "inet:" + strconv.Itoa(Ed25519Port) + "@127.0.0.1"
	}
	var files []generators.File
	add := func(bundlePath, target, tmpl string, data any) error {
		b, err := render(tmpl, data)
		if err != nil {
			return err
		}
		files = append(files, generators.File{Path: bundlePath, Target: target, Mode: 0o644, Data: b})
		return nil
	}
	keys, signing := tables(in, answers.AlgRSA)
	steps := []struct {
		path, target, tmpl string
		data               any
	}{
		{ConfPath, l.OpenDKIMConf, "opendkim.conf.tmpl", conf},
		{KeyTablePath, l.KeyTable, "KeyTable.tmpl", listData{l.KeyTable, l.OpenDKIMConf, in.Version, keys}},
		{SigningTablePath, l.SigningTable, "SigningTable.tmpl", listData{l.SigningTable, l.OpenDKIMConf, in.Version, signing}},
		{TrustedHostsPath, l.TrustedHosts, "TrustedHosts.tmpl", listData{l.TrustedHosts, l.OpenDKIMConf, in.Version, trusted}},
	}
	if ed {
		edConf := conf
		edConf.Target, edConf.Ed25519, edConf.Port = l.Ed25519Conf, true, Ed25519Port
		edConf.KeyTable, edConf.SigningTable, edConf.PidFile = l.Ed25519Keys, l.Ed25519Signing, l.Ed25519PidFile
		edConf.OtherConf, edConf.OtherSocket = l.OpenDKIMConf, "inet:"+strconv.Itoa(RSAPort)+"@127.0.0.1"
		edKeys, edSigning := tables(in, answers.AlgEd25519)
		unit := layout.Join(l.Root, Ed25519Unit)
		steps = append(steps, []struct {
			path, target, tmpl string
			data               any
		}{
			{Ed25519ConfPath, l.Ed25519Conf, "opendkim.conf.tmpl", edConf},
			{Ed25519KeysPath, l.Ed25519Keys, "KeyTable.tmpl", listData{l.Ed25519Keys, l.Ed25519Conf, in.Version, edKeys}},
			{Ed25519SignPath, l.Ed25519Signing, "SigningTable.tmpl", listData{l.Ed25519Signing, l.Ed25519Conf, in.Version, edSigning}},
			{Ed25519UnitPath, unit, "opendkim-ed25519.service.tmpl", unitData{unit, l.Ed25519Conf, l.Ed25519PidFile, in.Version, debian}},
		}...)
	}
	for _, s := range steps {
		if err := add(s.path, s.target, s.tmpl, s.data); err != nil {
			return nil, err
		}
	}
	return files, nil
}

type confData struct {
	Target, Version, Hostname, Distro string
	Debian, Ed25519                   bool
	Port                              int
	KeyTable, SigningTable            string
	TrustedHosts                      string
	PidFile, UserID, UMask            string
	// OtherConf and OtherSocket name the other instance, if any.
	OtherConf, OtherSocket string
}

type listData struct {
	Target, Conf, Version string
	Lines                 []string
}

type unitData struct {
	Target, Conf, PidFile, Version string
	Debian                         bool
}

func distroName(d string) string {
	if d == answers.DistroRHEL {
		return "RHEL/EPEL"
	}
	return "Debian"
}

// tables returns the KeyTable and SigningTable lines of the instance that
// signs with alg. External signers get a comment instead of a line.
func tables(in generators.Input, alg string) (keys, signing []string) {
	for _, s := range in.Answers.Signers() {
		if s.Algorithm != alg {
			continue
		}
		if s.External {
			c := fmt.Sprintf("# %s: signed elsewhere (public_key given), so no key here", s.KeyName())
			keys = append(keys, c)
			signing = append(signing, c)
			continue
		}
		keys = append(keys, fmt.Sprintf("%s %s:%s:%s", s.KeyName(), s.Domain, s.Selector, in.Layout.KeyFile(s.Domain, s.Selector)))
		signing = append(signing, fmt.Sprintf("*@%s %s", s.Domain, s.KeyName()))
	}
	if len(keys) == 0 {
		c := fmt.Sprintf("# No domain signs with %s here.", alg)
		keys, signing = []string{c}, []string{c}
	}
	return keys, signing
}

// trustedHosts lists loopback, the upstream networks and the server's name.
func trustedHosts(a *answers.Answers) ([]string, error) {
	lines := []string{"127.0.0.1", "::1", "localhost"}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	var nets []string
	for _, p := range a.UpstreamPrefixes() {
		n := normPrefix(p)
		if n.Bits() == 0 {
			return nil, fmt.Errorf("%w: relay.upstream.networks contains %s; list the upstream servers' own addresses, or use relay.upstream.sasl for servers with changing addresses", ErrTrustAll, p)
		}
		s := peerString(n)
		if !seen[s] {
			seen[s] = true
			nets = append(nets, s)
		}
	}
	if len(a.Relay.Upstream.Networks) > 0 && len(a.UpstreamPrefixes()) != len(a.Relay.Upstream.Networks) {
		return nil, fmt.Errorf("%w: relay.upstream.networks has an entry that is not an address or network", ErrBadValue)
	}
	if len(nets) > 0 {
		lines = append(lines, "# upstream servers that relay through this one (relay.upstream.networks)")
		lines = append(lines, nets...)
	}
	if h := a.Server.Hostname; h != "" && !seen[h] {
		lines = append(lines, "# this server's own name (server.hostname)", h)
	}
	return lines, nil
}

// normPrefix maps IPv4-mapped IPv6 prefixes to IPv4 (Postfix reports such
// clients by their IPv4 address) and masks the host bits.
func normPrefix(p netip.Prefix) netip.Prefix {
	addr, bits := p.Addr(), p.Bits()
	if addr.Is4In6() && bits >= 96 {
		addr, bits = addr.Unmap(), bits-96
	}
	return netip.PrefixFrom(addr, bits).Masked()
}

// peerString writes a prefix as OpenDKIM's peer lists expect: a bare
// address for a single host, CIDR otherwise; IPv6 in lower case (RFC 5952)
// and without brackets.
func peerString(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

// checkValues refuses names and paths that would corrupt a table line.
func checkValues(in generators.Input) error {
	bad := func(field, v, extra string) error {
		if v == "" || strings.ContainsAny(v, " \t\r\n#"+extra) {
			return fmt.Errorf("%w: %s %q", ErrBadValue, field, v)
		}
		return nil
	}
	for _, s := range in.Answers.Signers() {
		if err := bad("domain", s.Domain, ":"); err != nil {
			return err
		}
		if err := bad("DKIM selector of "+s.Domain, s.Selector, ":"); err != nil {
			return err
		}
		if s.External {
			continue
		}
		if err := bad("key path", in.Layout.KeyFile(s.Domain, s.Selector), ":"); err != nil {
			return err
		}
	}
	if h := in.Answers.Server.Hostname; h != "" {
		if err := bad("server.hostname", h, ""); err != nil {
			return err
		}
	}
	l := in.Layout
	for _, p := range []string{l.OpenDKIMConf, l.KeyTable, l.SigningTable, l.TrustedHosts, l.PidFile,
		l.Ed25519Conf, l.Ed25519Keys, l.Ed25519Signing, l.Ed25519PidFile} {
		if err := bad("path", p, ""); err != nil {
			return err
		}
	}
	return nil
}

var tmpl = template.Must(template.New("").ParseFS(templates.FS, "opendkim/*.tmpl"))

func render(name string, data any) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("opendkim: rendering %s: %w", name, err)
	}
	return b.Bytes(), nil
}
