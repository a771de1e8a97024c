package testdaemons

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Knot is a running knotd serving zones on loopback.
type Knot struct {
	Addr string // 127.0.0.1:port, UDP and TCP

	dir   string            // scratch directory; knotd's control socket is run/knot.sock
	files map[string]string // zone origin (fully qualified, lower case) → zone file
}

// StartKnot serves each zone fragment (origin → fragment, wrapped with
// WrapZone) on a free loopback port and stops at cleanup. It fails the test
// when knotd refuses a zone.
func StartKnot(t testing.TB, zones map[string]string) *Knot {
	t.Helper()
	return startKnot(t, zones, KnotOptions{})
}

func startKnot(t testing.TB, zones map[string]string, opts KnotOptions) *Knot {
	t.Helper()
	bin := mustBin(t, "knotd")
	dir := Dir(t)
	for _, d := range []string{"zones", "db", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatalf("testdaemons: %v", err)
		}
	}
	port := FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	origins := make([]string, 0, len(zones))
	for o := range zones {
		origins = append(origins, o)
	}
	sort.Strings(origins)

	var conf strings.Builder
	fmt.Fprintf(&conf, `server:
    listen: 127.0.0.1@%d
    rundir: %s
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: %s
log:
  - target: stderr
    any: info
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
`, port, filepath.Join(dir, "run"), filepath.Join(dir, "db"))
	conf.WriteString(opts.sections())
	conf.WriteString("zone:\n")
	files := make(map[string]string, len(origins))
	for i, o := range origins {
		file := filepath.Join(dir, "zones", fmt.Sprintf("zone%d.zone", i))
		files[strings.ToLower(dns.Fqdn(o))] = file
		if err := os.WriteFile(file, []byte(WrapZone(o, zones[o])), 0o600); err != nil {
			t.Fatalf("testdaemons: %v", err)
		}
		fmt.Fprintf(&conf, "  - domain: %q\n    file: %q\n%s", dns.Fqdn(o), file, opts.zoneACL())
	}
	confPath := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o600); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}

	p := startProc(t, bin, "-c", confPath)
	p.stopAtCleanup(t)

	// Ready when every zone answers its SOA over UDP. knotd keeps running
	// when a zone fails to load (it answers SERVFAIL for it), so an error
	// in its log ends the wait at once.
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	pending := append([]string(nil), origins...)
	err := waitFor(p, 10*time.Second, func() bool {
		for len(pending) > 0 {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(pending[0]), dns.TypeSOA)
			r, _, err := c.Exchange(m, addr)
			if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
				return strings.Contains(p.out.String(), "error: ")
			}
			pending = pending[1:]
		}
		return true
	})
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("zone %s not served", pending[0])
	}
	if err != nil {
		var zs strings.Builder
		for i, o := range origins {
			fmt.Fprintf(&zs, "--- zone%d.zone (%s)\n%s", i, o, numbered(WrapZone(o, zones[o])))
		}
		t.Fatalf("testdaemons: knotd on %s: %v\nknotd log:\n%s\n%s", addr, err, p.out, zs.String())
	}
	return &Knot{Addr: addr, dir: dir, files: files}
}

// unboundNoDefault lists libunbound's built-in local zones that tests need
// to reach: libunbound answers them itself (NXDOMAIN) unless they are
// marked nodefault, so a test zone under .test or a reverse zone for
// loopback or private ranges would never be asked of Knot.
var unboundNoDefault = []string{
	"test.", "invalid.", "home.arpa.",
	"127.in-addr.arpa.", "0.in-addr.arpa.", "10.in-addr.arpa.",
	"254.169.in-addr.arpa.", "168.192.in-addr.arpa.",
	"2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
	"16.172.in-addr.arpa.", "17.172.in-addr.arpa.", "18.172.in-addr.arpa.", "19.172.in-addr.arpa.",
	"20.172.in-addr.arpa.", "21.172.in-addr.arpa.", "22.172.in-addr.arpa.", "23.172.in-addr.arpa.",
	"24.172.in-addr.arpa.", "25.172.in-addr.arpa.", "26.172.in-addr.arpa.", "27.172.in-addr.arpa.",
	"28.172.in-addr.arpa.", "29.172.in-addr.arpa.", "30.172.in-addr.arpa.", "31.172.in-addr.arpa.",
}

// UnboundConf writes a libunbound configuration into dir that sends every
// query to k (OpenDKIM's ResolverConfiguration) and returns its path.
//
// libunbound by default refuses to query localhost and serves .test and
// the private/loopback reverse zones itself; both are turned off here, and
// only the iterator module runs (no DNSSEC validation, Knot's zones are
// unsigned).
func (k *Knot) UnboundConf(t testing.TB, dir string) string {
	t.Helper()
	host, port, ok := strings.Cut(k.Addr, ":")
	if !ok {
		t.Fatalf("testdaemons: bad Knot address %q", k.Addr)
	}
	var b strings.Builder
	b.WriteString("server:\n    do-not-query-localhost: no\n    module-config: \"iterator\"\n    do-ip6: no\n")
	for _, z := range unboundNoDefault {
		fmt.Fprintf(&b, "    local-zone: %q nodefault\n", z)
	}
	fmt.Fprintf(&b, "forward-zone:\n    name: \".\"\n    forward-addr: %s@%s\n", host, port)
	path := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	return path
}
