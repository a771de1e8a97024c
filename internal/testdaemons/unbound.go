package testdaemons

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Unbound is a running unbound recursive resolver on loopback that caches
// answers from an upstream (usually a Knot) for a few zones.
type Unbound struct {
	Addr string // 127.0.0.1:port, UDP and TCP

	log string // unbound's log file
}

// StartUnbound runs unbound in the foreground on a free loopback port,
// answering for zones from upstream (a Knot.Addr, "127.0.0.1:port"), and
// stops it at cleanup. It returns once unbound answers the SOA of the
// first zone through upstream.
//
// The configuration is for tests on a machine without systemd, run as root:
// no chroot, no privilege drop, no remote control, no syslog (the log goes
// to a file in the scratch directory and is shown when the test fails),
// the iterator module alone (no DNSSEC validation: Knot's zones are
// unsigned) and each zone forwarded to upstream. Queries outside the zones
// are not answered from the Internet: outgoing queries leave from
// 127.0.0.1 only.
//
// Caching is real, with two adjustments: cache-min-ttl 0 and no
// serve-expired or prefetch, so an answer lives exactly its TTL; and
// negative answers (NXDOMAIN, NODATA) are cached for at most 1 s instead
// of the SOA minimum (300 s in WrapZone), so a test that adds a name does
// not wait five minutes.
//
// unbound serves some names itself (test., invalid., the loopback and
// private reverse zones, …) unless told otherwise; those built-in local
// zones, and each of zones, are marked nodefault.
func StartUnbound(t testing.TB, upstream string, zones []string) *Unbound {
	t.Helper()
	bin := mustBin(t, "unbound")
	if len(zones) == 0 {
		t.Fatalf("testdaemons: StartUnbound needs at least one zone")
	}
	host, uport, ok := strings.Cut(upstream, ":")
	if !ok || host == "" || uport == "" {
		t.Fatalf("testdaemons: upstream %q is not host:port", upstream)
	}
	dir := Dir(t)
	port := FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, "unbound.log")

	var b strings.Builder
	fmt.Fprintf(&b, `server:
    verbosity: 1
    interface: 127.0.0.1@%d
    port: %d
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    outgoing-interface: 127.0.0.1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    chroot: ""
    username: ""
    directory: %q
    pidfile: %q
    logfile: %q
    use-syslog: no
    log-time-ascii: yes
    do-daemonize: no
    num-threads: 1
    outgoing-range: 64
    num-queries-per-thread: 32
    so-reuseport: no
    cache-min-ttl: 0
    cache-max-negative-ttl: 1
    serve-expired: no
    prefetch: no
    qname-minimisation: no
    unblock-lan-zones: yes
    insecure-lan-zones: yes
`, port, port, dir, filepath.Join(dir, "unbound.pid"), logPath)
	seen := map[string]bool{}
	nodefault := func(z string) {
		z = strings.ToLower(dns.Fqdn(z))
		if !seen[z] {
			seen[z] = true
			fmt.Fprintf(&b, "    local-zone: %q nodefault\n", z)
		}
	}
	for _, z := range unboundNoDefault {
		nodefault(z)
	}
	for _, z := range zones {
		nodefault(z)
	}
	b.WriteString("remote-control:\n    control-enable: no\n")
	for _, z := range zones {
		fmt.Fprintf(&b, "forward-zone:\n    name: %q\n    forward-addr: %s@%s\n", dns.Fqdn(z), host, uport)
	}
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	if check, err := LookBin("unbound-checkconf"); err == nil {
		if out, err := exec.Command(check, confPath).CombinedOutput(); err != nil {
			t.Fatalf("testdaemons: unbound-checkconf: %v\n%s\nconfig:\n%s", err, out, numbered(b.String()))
		}
	}

	p := startProc(t, bin, "-d", "-c", confPath)
	u := &Unbound{Addr: addr, log: logPath}
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("testdaemons: unbound output:\n%s\nunbound log:\n%s", p.out, u.logText())
		}
	})

	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	first := dns.Fqdn(zones[0])
	var last string
	err := waitFor(p, 10*time.Second, func() bool {
		m := new(dns.Msg)
		m.SetQuestion(first, dns.TypeSOA)
		r, _, err := c.Exchange(m, addr)
		switch {
		case err != nil:
			last = err.Error()
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0:
			last = fmt.Sprintf("%s with %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
		default:
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("testdaemons: unbound on %s: %v (last answer to SOA %s: %s)\noutput:\n%s\nlog:\n%s\nconfig:\n%s",
			addr, err, first, last, p.out, u.logText(), numbered(b.String()))
	}
	return u
}

// logText returns unbound's log file, or why it cannot be read.
func (u *Unbound) logText() string {
	b, err := os.ReadFile(u.log)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// UpdateZone replaces the zone origin, which k serves since StartKnot,
// with fragment (wrapped with WrapZone, SOA serial one above the one
// served now) and has knotd reload it through its control socket. It
// returns once k serves the new serial, and fails the test when origin is
// not one of k's zones or knotd refuses the new zone.
//
// Caches in front of k (StartUnbound) keep their answers until the TTLs
// run out.
func (k *Knot) UpdateZone(t testing.TB, origin, fragment string) {
	t.Helper()
	knotc := mustBin(t, "knotc")
	o := strings.ToLower(dns.Fqdn(origin))
	file, ok := k.files[o]
	if !ok {
		t.Fatalf("testdaemons: knotd on %s does not serve zone %s", k.Addr, o)
	}

	c := &dns.Client{Net: "udp", Timeout: time.Second}
	serial := func() (uint32, error) {
		m := new(dns.Msg)
		m.SetQuestion(o, dns.TypeSOA)
		r, _, err := c.Exchange(m, k.Addr)
		if err != nil {
			return 0, err
		}
		for _, rr := range r.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				return soa.Serial, nil
			}
		}
		return 0, fmt.Errorf("no SOA in the answer (%s)", dns.RcodeToString[r.Rcode])
	}
	old, err := serial()
	if err != nil {
		t.Fatalf("testdaemons: SOA of %s from knotd on %s: %v", o, k.Addr, err)
	}
	next := old + 1 // serial arithmetic (RFC 1982) wraps, as uint32 does

	// WrapZone writes serial 1 followed by these timers; the fragment
	// cannot hold a SOA, so the first match is the one to change.
	const timers = " 3600 600 86400 300\n"
	zone := WrapZone(origin, fragment)
	if !strings.Contains(zone, " 1"+timers) {
		t.Fatalf("testdaemons: no SOA serial in the wrapped zone:\n%s", numbered(zone))
	}
	zone = strings.Replace(zone, " 1"+timers, fmt.Sprintf(" %d%s", next, timers), 1)
	tmp := file + ".new"
	if err := os.WriteFile(tmp, []byte(zone), 0o600); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}

	sock := filepath.Join(k.dir, "run", "knot.sock")
	out, err := exec.Command(knotc, "-s", sock, "-b", "-t", "10", "zone-reload", o).CombinedOutput()
	if err != nil {
		t.Fatalf("testdaemons: knotc zone-reload %s: %v\n%s\nzone:\n%s", o, err, out, numbered(zone))
	}
	// -b waits for the reload event; poll anyway, the answer is what counts.
	var got uint32
	if err := waitFor(nil, 5*time.Second, func() bool {
		got, err = serial()
		return err == nil && got == next
	}); err != nil {
		t.Fatalf("testdaemons: knotd on %s still serves serial %d of %s, want %d (%v); knotc said %s\nzone:\n%s",
			k.Addr, got, o, next, err, strings.TrimSpace(string(out)), numbered(zone))
	}
}
