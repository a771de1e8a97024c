// Package detect finds out what it can about this machine for the wizard's
// defaults: host name, public addresses, distribution, installed Postfix and
// OpenDKIM, the Postfix settings that matter, and existing DKIM keys.
package detect

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sendready/sendready/answers"
)

// System is what detection reads. Local() is the real machine; tests give
// a fake root and command runner.
type System struct {
	// Root prefixes every file read (/etc/os-release, /etc/opendkim/keys).
	Root string
	// Run runs a command and returns its standard output.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// Addrs lists the addresses on the interfaces.
	Addrs func() ([]netip.Prefix, error)
	// Hostname is the fallback when `hostname -f` gives nothing
	// (os.Hostname); nil: no fallback.
	Hostname func() (string, error)
}

// Result is what was found. Empty fields were not found.
type Result struct {
	Hostname string // hostname -f
	// IPv4 and IPv6 are the interface addresses, public ones first.
	IPv4, IPv6 []netip.Addr
	// PublicIPv4/6 are the public ones only: the defaults for the answers.
	PublicIPv4, PublicIPv6 []netip.Addr
	// OnlyPrivate is true when no public address was found: the server is
	// probably behind NAT, and its public address must be typed in.
	OnlyPrivate bool
	Distro      string // answers.DistroDebian, answers.DistroRHEL or ""
	DistroName  string // PRETTY_NAME from os-release
	Postfix     string // mail_version, "" when not installed
	OpenDKIM    string // version, "" when not installed
	// Postconf holds the current non-default values of myhostname, relayhost,
	// smtpd_milters, non_smtpd_milters, mynetworks, smtp_helo_name.
	Postconf map[string]string
	// DKIMKeys are existing private keys: "<domain>/<selector>" → path.
	DKIMKeys map[string]string
	// Notes are things worth telling the admin (NAT, a relayhost already set…).
	Notes []string
}

// PostconfKeys are the `postconf -n` settings Detect keeps.
var PostconfKeys = []string{"myhostname", "relayhost", "smtpd_milters", "non_smtpd_milters", "mynetworks", "smtp_helo_name"}

// Local returns the System of this machine.
func Local() System {
	return System{
		Root: "/",
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).Output()
		},
		Addrs: func() ([]netip.Prefix, error) {
			addrs, err := net.InterfaceAddrs()
			if err != nil {
				return nil, err
			}
			var out []netip.Prefix
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil {
					out = append(out, p)
				}
			}
			return out, nil
		},
		Hostname: os.Hostname,
	}
}

// Detect looks at sys. It never fails: what cannot be found stays empty.
func Detect(ctx context.Context, sys System) Result {
	r := Result{Postconf: map[string]string{}, DKIMKeys: map[string]string{}}
	r.Hostname = hostname(ctx, sys)
	addresses(sys, &r)
	osRelease(sys, &r)
	if out, ok := run(ctx, sys, "postconf", "-d", "-h", "mail_version"); ok { // -d: works before main.cf exists ("No configuration" installs)
		r.Postfix = firstLine(out)
	}
	if r.Postfix != "" {
		if out, ok := run(ctx, sys, "postconf", "-n"); ok {
			r.Postconf = parsePostconf(out)
		}
	}
	if out, ok := run(ctx, sys, "opendkim", "-V"); ok {
		r.OpenDKIM = opendkimVersion(firstLine(out))
	}
	dkimKeys(sys, &r)
	notes(&r)
	return r
}

// run runs a command, ignoring a missing command. Output printed before a
// non-zero exit still counts (opendkim -V exits 1 on some versions).
func run(ctx context.Context, sys System, name string, args ...string) ([]byte, bool) {
	if sys.Run == nil {
		return nil, false
	}
	out, _ := sys.Run(ctx, name, args...) // a missing command or a failure leaves out empty
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, false
	}
	return out, true
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(line)
}

func hostname(ctx context.Context, sys System) string {
	name := ""
	if out, ok := run(ctx, sys, "hostname", "-f"); ok {
		name = firstLine(out)
	}
	if name == "" && sys.Hostname != nil {
		if h, err := sys.Hostname(); err == nil {
			name = h
		}
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// IsPublic reports whether ip can be a public sending address: not
// loopback, link-local, private, unique-local or carrier-grade NAT.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsUnspecified(), ip.IsLinkLocalUnicast(),
		ip.IsMulticast(), ip.IsPrivate():
		return false
	case netip.MustParsePrefix("100.64.0.0/10").Contains(ip):
		return false
	}
	return true
}

func addresses(sys System, r *Result) {
	if sys.Addrs == nil {
		r.OnlyPrivate = true
		return
	}
	prefixes, _ := sys.Addrs()
	var pub4, priv4, pub6, priv6 []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, p := range prefixes {
		ip := p.Addr().Unmap().WithZone("")
		if !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() || seen[ip] {
			continue
		}
		seen[ip] = true
		switch {
		case ip.Is4() && IsPublic(ip):
			pub4 = append(pub4, ip)
		case ip.Is4():
			priv4 = append(priv4, ip)
		case IsPublic(ip):
			pub6 = append(pub6, ip)
		default:
			priv6 = append(priv6, ip)
		}
	}
	r.PublicIPv4, r.PublicIPv6 = pub4, pub6
	r.IPv4 = append(slices.Clone(pub4), priv4...)
	r.IPv6 = append(slices.Clone(pub6), priv6...)
	r.OnlyPrivate = len(pub4)+len(pub6) == 0
}

func osRelease(sys System, r *Result) {
	data, err := os.ReadFile(filepath.Join(sys.Root, "etc", "os-release"))
	if err != nil {
		return
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		vals[k] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	r.DistroName = vals["PRETTY_NAME"]
	ids := append([]string{vals["ID"]}, strings.Fields(vals["ID_LIKE"])...)
	for _, id := range ids {
		switch strings.ToLower(id) {
		case "debian", "ubuntu":
			r.Distro = answers.DistroDebian
		case "rhel", "centos", "rocky", "almalinux", "fedora":
			r.Distro = answers.DistroRHEL
		}
		if r.Distro != "" {
			return
		}
	}
}

func parsePostconf(out []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if slices.Contains(PostconfKeys, k) {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// opendkimVersion takes "opendkim: OpenDKIM Filter v2.11.0" to "2.11.0";
// a line without a vN.N word is kept whole.
func opendkimVersion(line string) string {
	for _, f := range strings.Fields(line) {
		if len(f) > 1 && (f[0] == 'v' || f[0] == 'V') && f[1] >= '0' && f[1] <= '9' {
			return f[1:]
		}
	}
	return line
}

func dkimKeys(sys System, r *Result) {
	dir := filepath.Join(sys.Root, "etc", "opendkim")
	matches, _ := filepath.Glob(filepath.Join(dir, "keys", "*", "*.private"))
	for _, m := range matches {
		domain := filepath.Base(filepath.Dir(m))
		sel := strings.TrimSuffix(filepath.Base(m), ".private")
		r.DKIMKeys[domain+"/"+sel] = m
	}
	data, err := os.ReadFile(filepath.Join(dir, "KeyTable"))
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		parts := strings.SplitN(fields[1], ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			continue
		}
		key := strings.ToLower(parts[0]) + "/" + parts[1]
		if _, ok := r.DKIMKeys[key]; !ok {
			r.DKIMKeys[key] = parts[2]
		}
	}
}

func notes(r *Result) {
	if r.OnlyPrivate {
		var priv []string
		for _, ip := range append(slices.Clone(r.IPv4), r.IPv6...) {
			priv = append(priv, ip.String())
		}
		found := "no address at all"
		if len(priv) > 0 {
			found = "only " + strings.Join(priv, ", ")
		}
		r.Notes = append(r.Notes, fmt.Sprintf("No public address on the interfaces (%s): this server is probably behind NAT. Type the public address mail leaves from (the router's or provider's address).", found))
	}
	if v := r.Postconf["relayhost"]; v != "" {
		r.Notes = append(r.Notes, fmt.Sprintf("Postfix already relays through %s (relayhost): choose the topology that matches, or the bundle will replace it.", v))
	}
	if v := r.Postconf["smtpd_milters"]; v != "" {
		r.Notes = append(r.Notes, fmt.Sprintf("Postfix already has milters (%s): the bundle's install.sh replaces smtpd_milters.", v))
	}
	if n := len(r.DKIMKeys); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d DKIM key(s) already under /etc/opendkim: new keys get a new selector, so the old ones keep working until you remove them.", n))
	}
}
