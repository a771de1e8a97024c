// Package detect finds out what it can about this machine for the wizard's
// defaults: host name, public addresses, distribution, installed Postfix and
// OpenDKIM, the Postfix settings that matter, and existing DKIM keys.
package detect

import (
	"context"
	"net/netip"
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

// Local returns the System of this machine.
func Local() System { panic("not implemented") }

// Detect looks at sys. It never fails: what cannot be found stays empty.
func Detect(ctx context.Context, sys System) Result { panic("not implemented") }
