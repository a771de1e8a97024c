// Package testdaemons starts the real daemons that tests check generated
// files against — Knot DNS, OpenDKIM, Postfix, smtp-sink — on loopback, in
// scratch directories, and stops them when the test ends. A test whose
// binary is missing fails when CI=true and is skipped otherwise.
//
// Cleanup order matters: every Start* helper registers its stop with
// t.Cleanup after the directory it uses was made by Dir, so (cleanups run
// last-in first-out) daemons are stopped before their directories are
// removed.
//
// Nothing here uses the system resolver: the machine's default resolver is
// not on loopback, so DNS questions go to Knot through miekg/dns, and
// Postfix and OpenDKIM are configured to do the same.
package testdaemons

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BaseDir is the parent of every directory made by Dir. It is outside /tmp
// on purpose: OpenDKIM refuses keys whose parent directories are
// world-writable ("key data is not secure"), which rules out t.TempDir().
const BaseDir = "/var/lib/sendready-test"

// debianPackage names the Debian package that installs each binary the
// helpers run, for the message shown when one is missing.
var debianPackage = map[string]string{
	"knotd":             "knot",
	"knotc":             "knot",
	"kdig":              "knot-dnsutils",
	"named-checkzone":   "bind9-utils",
	"opendkim":          "opendkim",
	"opendkim-testkey":  "opendkim-tools",
	"opendkim-genkey":   "opendkim-tools",
	"postfix":           "postfix",
	"postconf":          "postfix",
	"postmap":           "postfix",
	"sendmail":          "postfix",
	"smtp-sink":         "postfix",
	"smtp-source":       "postfix",
	"swaks":             "swaks",
	"unbound":           "unbound",
	"unbound-checkconf": "unbound",
	"dig":               "dnsutils",
	"saslpasswd2":       "sasl2-bin",
	"policyd-spf":       "postfix-policyd-spf-python",
}

// extraBinDirs are searched after PATH: test runners often have a PATH
// without the sbin directories, and some Postfix tools live in its daemon
// directory.
var extraBinDirs = []string{"/usr/sbin", "/sbin", "/usr/lib/postfix/sbin"}

// LookBin returns the full path of the binary name, searched in PATH and
// then in /usr/sbin, /sbin and /usr/lib/postfix/sbin.
func LookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range extraBinDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("testdaemons: %s not found in PATH, %s", name, strings.Join(extraBinDirs, ", "))
}

// inCI reports whether missing binaries are failures (CI=true or CI=1).
func inCI() bool {
	v := os.Getenv("CI")
	return strings.EqualFold(v, "true") || v == "1"
}

// Require fails the test when CI=true, or skips it otherwise, when any of
// bins is not on PATH (or in /usr/sbin, /usr/lib/postfix/sbin).
func Require(t testing.TB, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := LookBin(b); err == nil {
			continue
		}
		pkg := debianPackage[b]
		if pkg == "" {
			pkg = "the package that provides " + b
		}
		msg := fmt.Sprintf("%s not found (PATH, %s); install the Debian package %s (apt-get install %s)",
			b, strings.Join(extraBinDirs, ", "), pkg, pkg)
		if inCI() {
			t.Fatalf("testdaemons: CI=true and %s", msg)
		}
		t.Skipf("testdaemons: %s", msg)
	}
}

// mustBin is LookBin for binaries already checked with Require.
func mustBin(t testing.TB, name string) string {
	t.Helper()
	Require(t, name)
	p, err := LookBin(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Dir makes a fresh 0700 directory under /var/lib/sendready-test (outside
// /tmp: OpenDKIM refuses keys under world-writable parents) and removes it
// when the test ends. The base is created 0700 when missing; NewPostfix
// later adds o+x (search only) to it and to its own directory.
func Dir(t testing.TB) string {
	t.Helper()
	// The base is 0700 root: daemons that drop privileges (smtp-sink as
	// nobody, Postfix children as postfix) cannot traverse it, which is why
	// the sink chroots into its directory and Postfix's children work
	// relative to the queue directory their root master chdir'ed into.
	if err := os.Mkdir(BaseDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatalf("testdaemons: making %s: %v", BaseDir, err)
	}
	d, err := os.MkdirTemp(BaseDir, sanitize(t.Name())+"-")
	if err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	// MkdirTemp already uses 0700; make it explicit against odd umasks.
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(d); err != nil {
			t.Errorf("testdaemons: removing %s: %v", d, err)
		}
	})
	return d
}

// sanitize turns a test name into something usable in a file name.
func sanitize(name string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// FreePort returns a port free for both TCP and UDP on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testdaemons: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port
	}
	t.Fatalf("testdaemons: no port free for both TCP and UDP on 127.0.0.1")
	return 0
}

// syncBuffer collects a daemon's stdout and stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a daemon run as a child process in the foreground.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // valid after done is closed
}

// startProc starts bin with args, capturing its output. It does not
// register a cleanup; callers do, after everything they need is set up.
func startProc(t testing.TB, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	// Own process group, so a ^C on the test does not hit the daemon
	// before its cleanup runs.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("testdaemons: starting %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to 10 s, then kills.
func (p *proc) stop(t testing.TB) {
	t.Helper()
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("testdaemons: %s ignored SIGTERM for 10 s and was killed; output:\n%s", p.name, p.out)
	}
}

// stopAtCleanup registers p.stop, and logs p's output when the test failed.
func (p *proc) stopAtCleanup(t testing.TB) {
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			if s := p.out.String(); s != "" {
				t.Logf("testdaemons: %s output:\n%s", p.name, s)
			}
		}
	})
}

// waitTCP waits until addr accepts a TCP connection, failing the test when
// p exits first or the timeout passes. p may be nil.
func waitTCP(t testing.TB, p *proc, addr string, timeout time.Duration) {
	t.Helper()
	if err := waitFor(p, timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}); err != nil {
		out := ""
		if p != nil {
			out = p.out.String()
		}
		t.Fatalf("testdaemons: waiting for %s: %v; output:\n%s", addr, err, out)
	}
}

// waitFor polls ready until it is true, p (if not nil) exits or the
// timeout passes.
func waitFor(p *proc, timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ready() {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
