// Package testdaemons starts the real daemons that tests check generated
// files against — Knot DNS, OpenDKIM, Postfix, smtp-sink — on loopback, in
// scratch directories, and stops them when the test ends. A test whose
// binary is missing fails when CI=true and is skipped otherwise.
package testdaemons

import "testing"

// Require fails the test when CI=true, or skips it otherwise, when any of
// bins is not on PATH (or in /usr/sbin, /usr/lib/postfix/sbin).
func Require(t testing.TB, bins ...string) { panic("not implemented") }

// Dir makes a fresh 0700 directory under /var/lib/sendready-test (outside
// /tmp: OpenDKIM refuses keys under world-writable parents) and removes it
// when the test ends.
func Dir(t testing.TB) string { panic("not implemented") }

// FreePort returns a port free for both TCP and UDP on 127.0.0.1.
func FreePort(t testing.TB) int { panic("not implemented") }

// WrapZone returns fragment with a test $ORIGIN, $TTL, SOA and NS added, so
// that it is a complete zone for origin (ns at 127.0.0.1).
func WrapZone(origin, fragment string) string { panic("not implemented") }

// CheckZone runs named-checkzone on WrapZone(origin, fragment) and fails
// the test with its output when the zone is rejected.
func CheckZone(t testing.TB, origin, fragment string) { panic("not implemented") }

// Knot is a running knotd serving zones on loopback.
type Knot struct {
	Addr string // 127.0.0.1:port, UDP and TCP
}

// StartKnot serves each zone fragment (origin → fragment, wrapped with
// WrapZone) on a free loopback port and stops at cleanup. It fails the test
// when knotd refuses a zone.
func StartKnot(t testing.TB, zones map[string]string) *Knot { panic("not implemented") }

// UnboundConf writes a libunbound configuration into dir that sends every
// query to k (OpenDKIM's ResolverConfiguration) and returns its path.
func (k *Knot) UnboundConf(t testing.TB, dir string) string { panic("not implemented") }

// Postfix is a private Postfix instance in a scratch config directory.
type Postfix struct {
	ConfigDir string
	Maillog   string
}

// NewPostfix seeds dir/etc like a fresh Debian install (main.cf.debian as
// main.cf, master.cf.dist as master.cf), with queue and data directories
// outside it, chroot off, inet_interfaces loopback and maillog_file set.
// It does not start Postfix.
func NewPostfix(t testing.TB, dir string) *Postfix { panic("not implemented") }

// Postconf runs postconf -c ConfigDir with args and returns its output,
// failing the test on error.
func (p *Postfix) Postconf(t testing.TB, args ...string) string { panic("not implemented") }

// Check runs postfix check; it returns the output and an error when
// Postfix rejects the configuration.
func (p *Postfix) Check() (string, error) { panic("not implemented") }

// Start starts the instance and stops it at cleanup.
func (p *Postfix) Start(t testing.TB) { panic("not implemented") }

// StartOpenDKIM runs opendkim in the foreground with conf, waits until it
// listens on addr (host:port) and stops it at cleanup.
func StartOpenDKIM(t testing.TB, conf, addr string) { panic("not implemented") }

// StartSMTPSink runs Postfix's smtp-sink on a free loopback port, writing
// each message received to a file in dir, and returns its address.
func StartSMTPSink(t testing.TB, dir string) string { panic("not implemented") }
