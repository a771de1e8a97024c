package testdaemons

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postfix is a private Postfix instance in a scratch config directory.
type Postfix struct {
	ConfigDir string
	Maillog   string
	// SMTPAddr is the 127.0.0.1:port of the smtpd inet listener (the
	// "smtp inet" service of master.cf, moved off port 25).
	SMTPAddr string
	// QueueDir is queue_directory, outside ConfigDir.
	QueueDir string
}

// NewPostfix seeds dir/etc like a fresh Debian install (main.cf.debian as
// main.cf, master.cf.dist as master.cf), with queue and data directories
// outside it, chroot off, inet_interfaces loopback and maillog_file set.
// It does not start Postfix. dir must exist (use a Dir).
//
// It adds search permission for others (o+x) on dir and its parents up to
// BaseDir: Postfix processes running as postfix must reach data_directory.
//
// What is set on top of the Debian files, and why:
//   - config_directory, queue_directory (dir/spool), data_directory
//     (dir/data, owned by postfix): a private instance that needs no
//     postmulti and no entry in /etc/postfix. The queue must not live in
//     the config directory.
//   - maillog_file (dir/maillog) and maillog_file_prefixes: there is no
//     syslog.
//   - inet_interfaces = 127.0.0.1, inet_protocols = ipv4, and the "smtp
//     inet" service renamed to 127.0.0.1:<free port> (SMTPAddr).
//   - mydestination, alias_maps, alias_database empty: nothing is
//     delivered locally.
//   - smtp_host_lookup = native, smtpd_peername_lookup = no: the system
//     resolver is not on loopback; use numeric relayhosts in tests.
//   - chroot = n for every service: the chroot would need copies of
//     /etc files inside the queue directory.
func NewPostfix(t testing.TB, dir string) *Postfix {
	t.Helper()
	return NewPostfixAt(t, dir, filepath.Join(dir, "etc"))
}

// NewPostfixAt is NewPostfix with the configuration in etc (for example
// <root>/etc/postfix, where a bundle generated with --root expects it);
// queue and data directories go into dir.
func NewPostfixAt(t testing.TB, dir, etc string) *Postfix {
	t.Helper()
	Require(t, "postfix", "postconf")
	spool := filepath.Join(dir, "spool")
	data := filepath.Join(dir, "data")
	for _, d := range []string{etc, spool, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("testdaemons: %v", err)
		}
	}
	// Trap: the master opens data_directory/master.lock with the postfix
	// uid, which cannot traverse the 0700 directories made by Dir ("open
	// lock file ...: Permission denied", startup fails). Give others
	// search-only permission (o+x, no listing) on dir and its parents up to
	// BaseDir.
	if err := allowSearch(dir); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		t.Fatalf("testdaemons: %v (is postfix installed?)", err)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pf.Gid)
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	for src, dst := range map[string]string{
		"/usr/share/postfix/main.cf.debian": "main.cf",
		"/usr/share/postfix/master.cf.dist": "master.cf",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("testdaemons: %v (is postfix installed?)", err)
		}
		if err := os.WriteFile(filepath.Join(etc, dst), b, 0o644); err != nil {
			t.Fatalf("testdaemons: %v", err)
		}
	}
	p := &Postfix{
		ConfigDir: etc,
		Maillog:   filepath.Join(dir, "maillog"),
		SMTPAddr:  fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
		QueueDir:  spool,
	}
	p.Postconf(t, "-e",
		"config_directory = "+etc,
		"queue_directory = "+spool,
		"data_directory = "+data,
		"maillog_file = "+p.Maillog,
		"maillog_file_prefixes = "+dir,
		"inet_interfaces = 127.0.0.1",
		"inet_protocols = ipv4",
		"mydestination =",
		"alias_maps =",
		"alias_database =",
		"smtp_host_lookup = native",
		"smtpd_peername_lookup = no",
	)
	// Move the smtpd listener with postconf rather than sed: the column
	// spacing of master.cf.dist is not something to rely on.
	p.Postconf(t, "-MX", "smtp/inet")
	p.Postconf(t, "-M", fmt.Sprintf("%s/inet = %s inet n - n - - smtpd", p.SMTPAddr, p.SMTPAddr))
	p.Postconf(t, "-F", "*/*/chroot = n")
	return p
}

// allowSearch adds o+x to dir and each parent up to and including BaseDir
// (or only dir when it is not under BaseDir).
func allowSearch(dir string) error {
	d, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return err
			}
		}
		if d == BaseDir || !strings.HasPrefix(d, BaseDir+"/") {
			return nil
		}
		d = filepath.Dir(d)
	}
}

// Postconf runs postconf -c ConfigDir with args and returns its output,
// failing the test on error.
func (p *Postfix) Postconf(t testing.TB, args ...string) string {
	t.Helper()
	bin := mustBin(t, "postconf")
	cmd := exec.Command(bin, append([]string{"-c", p.ConfigDir}, args...)...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdaemons: postconf -c %s %s: %v\n%s", p.ConfigDir, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Check runs postfix check; it returns the output and an error when
// Postfix rejects the configuration. Warnings come back in the output with
// a nil error. The first check on a fresh instance takes about 3 s: it
// creates the queue directories.
func (p *Postfix) Check() (string, error) {
	bin, err := LookBin("postfix")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(bin, "-c", p.ConfigDir, "check").CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("testdaemons: postfix -c %s check: %w", p.ConfigDir, err)
	}
	return string(out), nil
}

// Start starts the instance and stops it at cleanup. It returns once the
// smtpd on SMTPAddr has sent its 220 greeting (the first start on a fresh
// queue takes about 2.5 s).
func (p *Postfix) Start(t testing.TB) {
	t.Helper()
	bin := mustBin(t, "postfix")
	out, err := exec.Command(bin, "-c", p.ConfigDir, "start").CombinedOutput()
	if err != nil {
		t.Fatalf("testdaemons: postfix -c %s start: %v\n%s\nmaillog:\n%s", p.ConfigDir, err, out, p.readMaillog())
	}
	t.Cleanup(func() { p.stop(t, bin) })
	if err := waitFor(nil, 30*time.Second, func() bool { return greets(p.SMTPAddr) }); err != nil {
		t.Fatalf("testdaemons: postfix smtpd on %s: %v\nmaillog:\n%s", p.SMTPAddr, err, p.readMaillog())
	}
}

// stop runs postfix stop and waits for the master to exit.
func (p *Postfix) stop(t testing.TB, bin string) {
	t.Helper()
	pid := 0
	if b, err := os.ReadFile(filepath.Join(p.QueueDir, "pid", "master.pid")); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if out, err := exec.Command(bin, "-c", p.ConfigDir, "stop").CombinedOutput(); err != nil {
		t.Errorf("testdaemons: postfix -c %s stop: %v\n%s", p.ConfigDir, err, out)
	}
	if pid > 0 {
		if err := waitFor(nil, 10*time.Second, func() bool {
			return syscall.Kill(pid, 0) == syscall.ESRCH
		}); err != nil {
			t.Errorf("testdaemons: postfix master %d still running after stop; killing it", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if t.Failed() {
		t.Logf("testdaemons: postfix maillog %s:\n%s", p.Maillog, p.readMaillog())
	}
}

// readMaillog returns the maillog, or why it could not be read.
func (p *Postfix) readMaillog() string {
	b, err := os.ReadFile(p.Maillog)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// greets reports whether an SMTP server on addr sends a 220 greeting.
func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return false
	}
	_, _ = c.Write([]byte("QUIT\r\n"))
	return true
}
