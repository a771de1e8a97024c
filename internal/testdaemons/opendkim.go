package testdaemons

import (
	"testing"
	"time"
)

// StartOpenDKIM runs opendkim in the foreground with conf, waits until it
// listens on addr (host:port) and stops it at cleanup.
//
// Its stdout and stderr are captured and shown when it fails to start or
// the test fails. There is no syslog here, so a conf for tests should say
// "Syslog no"; OpenDKIM then reports configuration errors on stderr and
// otherwise logs nothing. Keys must sit under directories that are not
// group- or world-writable (a Dir, not t.TempDir()), or OpenDKIM answers
// every message with a temporary failure ("key data is not secure").
// For lookups through Knot give it ResolverConfiguration (Knot.UnboundConf).
func StartOpenDKIM(t testing.TB, conf, addr string) {
	t.Helper()
	bin := mustBin(t, "opendkim")
	// -f keeps it in the foreground whatever the conf says about
	// Background; -x names the configuration file.
	p := startProc(t, bin, "-f", "-x", conf)
	p.stopAtCleanup(t)
	waitTCP(t, p, addr, 10*time.Second)
}
