package postfix

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/internal/testdaemons"
)

// applied is a generated configuration installed into a private Postfix.
type applied struct {
	pf       *testdaemons.Postfix
	in       generators.Input
	settings []Setting
	services []Service
}

// install applies in to a fresh private Postfix the way apply
// will: every main.cf pair in one postconf -e call, the master.cf snippet
// appended as is, each map written at its Target and postmapped, smtpd.conf
// written. editServices may change the services first (a test listen
// address instead of port 587).
func install(t *testing.T, pf *testdaemons.Postfix, in generators.Input, editServices func([]Service)) *applied {
	t.Helper()
	settings, err := MainCF(in)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-e"}
	for _, s := range settings {
		args = append(args, s.Key+"="+s.Value)
	}
	pf.Postconf(t, args...)

	services, err := Services(in)
	if err != nil {
		t.Fatal(err)
	}
	if editServices != nil {
		editServices(services)
	}
	master := filepath.Join(pf.ConfigDir, "master.cf")
	f, err := os.OpenFile(master, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\n" + FormatMasterCF(services)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	files, err := Files(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Target == "" {
			continue
		}
		writeFile(t, f.Target, f.Data, f.Mode)
		if strings.HasPrefix(f.Path, "postfix/") && f.Path != SMTPDConfPath {
			postmap(t, pf, MapType+":"+f.Target)
		}
	}
	return &applied{pf: pf, in: in, settings: settings, services: services}
}

func writeFile(t *testing.T, name string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, mode); err != nil {
		t.Fatal(err)
	}
}

func postmap(t *testing.T, pf *testdaemons.Postfix, table string) {
	t.Helper()
	bin, err := testdaemons.LookBin("postmap")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", pf.ConfigDir, table).CombinedOutput(); err != nil {
		t.Fatalf("postmap %s: %v\n%s", table, err, out)
	}
}

// postconfN runs postconf -n and returns the settings, failing on any
// warning (an unused parameter means a setting has no effect).
func postconfN(t *testing.T, pf *testdaemons.Postfix) map[string]string {
	t.Helper()
	bin, err := testdaemons.LookBin("postconf")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", pf.ConfigDir, "-n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("postconf -n: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("postconf -n warned:\n%s", stderr.String())
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		if !ok {
			k, v, ok = strings.Cut(sc.Text(), " =")
		}
		if ok {
			got[k] = v
		}
	}
	return got
}

// TestReal installs every topology into a private Postfix:
// postfix check must pass and postconf -n must show every value we set.
//
// Test names are short on purpose: Postfix's socket paths under the test
// directory must stay below the 108-byte limit of unix socket names.
func TestReal(t *testing.T) {
	testdaemons.Require(t, "postfix", "postconf", "postmap")
	for _, tc := range topologies() {
		for _, distro := range []string{answers.DistroDebian, answers.DistroRHEL} {
			t.Run(tc.name+"/"+distro, func(t *testing.T) {
				t.Parallel()
				root := testdaemons.Dir(t)
				pf := testdaemons.NewPostfix(t, root)
				in := input(tc.a, distro, root, "")
				l := in.Layout
				// Files the configuration references.
				if c := in.Answers.Relay.Office365.Certificate; c.CertFile != "" {
					testdaemons.SelfSignedCert(t, sysPath(l, c.CertFile), sysPath(l, c.KeyFile), c.Name)
				}
				if in.Answers.Relay.Upstream.SASL {
					cert, key := serverCert(l)
					testdaemons.SelfSignedCert(t, cert, key, in.Answers.Server.Hostname)
				}
				ap := install(t, pf, in, nil)
				if out, err := ap.pf.Check(); err != nil {
					t.Fatalf("postfix check: %v\n%s", err, out)
				} else if strings.Contains(out, "warning") {
					t.Errorf("postfix check warned:\n%s", out)
				}
				got := postconfN(t, ap.pf)
				for _, s := range ap.settings {
					if got[s.Key] != s.Value {
						t.Errorf("postconf -n: %s = %q, want %q", s.Key, got[s.Key], s.Value)
					}
				}
				// Every service we added is in master.cf as written.
				bin, _ := testdaemons.LookBin("postconf")
				for _, s := range ap.services {
					out, err := exec.Command(bin, "-c", ap.pf.ConfigDir, "-M", s.Key()).CombinedOutput()
					if err != nil {
						t.Fatalf("postconf -M %s: %v\n%s", s.Key(), err, out)
					}
					if f := strings.Fields(string(out)); strings.Join(f, " ") != s.Entry() {
						t.Errorf("postconf -M %s = %q, want %q", s.Key(), strings.Join(f, " "), s.Entry())
					}
				}
			})
		}
	}
}

// swaks runs swaks against addr and returns its transcript and whether it
// exited 0.
func swaks(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	bin, err := testdaemons.LookBin("swaks")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--timeout", "20"}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func postfixUID(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// TestRealSASL starts Postfix with the upstream-SASL
// configuration and logs in with a sasldb user: relaying is accepted after
// AUTH and refused without it.
func TestRealSASL(t *testing.T) {
	testdaemons.Require(t, "postfix", "postconf", "postmap", "saslpasswd2")
	root := testdaemons.Dir(t)
	pf := testdaemons.NewPostfix(t, root)
	a := answers.Answers{
		Server:  answers.Server{Hostname: "mail.example.test", IPv4: []string{"203.0.113.10"}},
		Domains: []answers.Domain{{Name: "example.test", MX: []string{"mx.elsewhere.test"}}},
		Relay:   answers.Relay{Upstream: answers.Upstream{SASL: true}},
	}
	in := input(a, answers.DistroDebian, root, "")
	l := in.Layout
	cert, key := serverCert(l)
	testdaemons.SelfSignedCert(t, cert, key, a.Server.Hostname)
	port := testdaemons.FreePort(t)
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	ap := install(t, pf, in, func(s []Service) {
		for i := range s {
			if s[i].Name == SubmissionService {
				s[i].Name = listen // port 587 is not ours in a test
			}
		}
	})
	// Keep anything accepted in the queue: nothing may leave loopback.
	ap.pf.Postconf(t, "-e", "defer_transports = smtp relay")

	// The sasldb user, as the admin would create it (password on stdin).
	const user, pass = "upstream", "correct horse battery"
	if err := os.MkdirAll(filepath.Dir(l.SASLDBFile), 0o755); err != nil {
		t.Fatal(err)
	}
	bin, _ := testdaemons.LookBin("saslpasswd2")
	cmd := exec.Command(bin, "-f", l.SASLDBFile, "-u", a.Server.Hostname, "-c", "-p", user)
	cmd.Stdin = strings.NewReader(pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v\n%s", err, out)
	}
	// Debian's Postfix reads smtpd.conf from $config_directory/sasl only
	// (cyrus_sasl_config_path is patched out). The test's config_directory
	// is root/etc, not root/etc/postfix, so point root/etc/sasl at the
	// generated directory.
	if err := os.Symlink(l.SMTPDConfDir, filepath.Join(pf.ConfigDir, "sasl")); err != nil {
		t.Fatal(err)
	}
	uid, gid := postfixUID(t)
	if err := os.Chown(l.SASLDBFile, uid, gid); err != nil { // Debian: group sasl + adduser postfix sasl
		t.Fatal(err)
	}
	if out, err := ap.pf.Check(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	ap.pf.Start(t)

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	tlsConf := &tls.Config{ServerName: a.Server.Hostname, RootCAs: pool}

	// session runs EHLO, optionally STARTTLS and AUTH, MAIL and RCPT to a
	// remote domain, and returns the first error.
	session := func(t *testing.T, useTLS bool, auth smtp.Auth) error {
		t.Helper()
		c, err := smtp.Dial(listen)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("upstream.example.test"); err != nil {
			return err
		}
		if useTLS {
			if err := c.StartTLS(tlsConf); err != nil {
				return err
			}
		}
		if auth != nil {
			if ok, _ := c.Extension("AUTH"); !ok {
				return errors.New("AUTH not offered")
			}
			if err := c.Auth(auth); err != nil {
				return err
			}
		}
		if err := c.Mail("app@example.test"); err != nil {
			return err
		}
		if err := c.Rcpt("someone@elsewhere.test"); err != nil {
			return err
		}
		return c.Quit()
	}

	t.Run("auth relays", func(t *testing.T) {
		if err := session(t, true, smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			t.Errorf("AUTH PLAIN then relaying should succeed: %v", err)
		}
	})
	t.Run("auth login with realm", func(t *testing.T) {
		if err := session(t, true, loginAuth{user + "@" + a.Server.Hostname, pass}); err != nil {
			t.Errorf("AUTH LOGIN as user@realm then relaying should succeed: %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		err := session(t, true, smtp.PlainAuth("", user, "wrong", "127.0.0.1"))
		if !isCode(err, 535, "5.7.8") {
			t.Errorf("wrong password: err = %v, want 535 5.7.8", err)
		}
	})
	t.Run("no auth refused", func(t *testing.T) {
		err := session(t, true, nil)
		if !isCode(err, 554, "5.7.1") {
			t.Errorf("relaying without AUTH: err = %v, want 554 5.7.1", err)
		}
	})
	t.Run("no tls no auth", func(t *testing.T) {
		err := session(t, false, loginAuth{user, pass})
		if err == nil || err.Error() != "AUTH not offered" {
			t.Errorf("AUTH without TLS: err = %v, want AUTH not offered", err)
		}
		err = session(t, false, nil)
		if !isCode(err, 530, "5.7.0") {
			t.Errorf("MAIL without TLS: err = %v, want 530 5.7.0 (STARTTLS first)", err)
		}
	})
}

// isCode reports whether err is an SMTP reply with code and enhanced status.
func isCode(err error, code int, enhanced string) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code == code && strings.HasPrefix(te.Msg, enhanced+" ")
}

// loginAuth is SASL LOGIN, which net/smtp lacks.
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a loginAuth) Next(from []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(string(from)) {
	case "username:":
		return []byte(a.user), nil
	case "password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", from)
}

// TestRealSPF starts Postfix with inbound SPF checking and sends a
// message from a client that is not in mynetworks: the real policyd-spf
// must answer (its X-Comment header is in the queued message) instead of
// Postfix deferring for a missing policy service.
//
// No DNS: the client is 127.0.0.2, which policyd-spf's skip_addresses
// (127.0.0.0/8) exempts before any lookup; the test config passed on
// argv states that, so the system config does not matter.
func TestRealSPF(t *testing.T) {
	testdaemons.Require(t, "postfix", "postconf", "postmap", "swaks", "policyd-spf")
	a := answers.Answers{
		Server:  answers.Server{Hostname: "mail.example.test", IPv4: []string{"203.0.113.10"}},
		Domains: []answers.Domain{{Name: "example.test"}},
	}
	run := func(t *testing.T, withService bool) (string, *applied) {
		root := testdaemons.Dir(t)
		pf := testdaemons.NewPostfix(t, root)
		in := input(a, answers.DistroDebian, root, "")
		if !in.Answers.InboundSPFCheck() {
			t.Fatal("topology does not check inbound SPF")
		}
		conf := filepath.Join(root, "policyd-spf.conf")
		writeFile(t, conf, []byte("debugLevel = 1\nTestOnly = 1\nHELO_reject = Fail\nMail_From_reject = Fail\n"+
			"PermError_reject = False\nTempError_Defer = False\nHeader_Type = SPF\n"+
			"skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\n"), 0o644)
		ap := install(t, pf, in, func(s []Service) {
			for i := range s {
				if s[i].Name == PolicydSPFService {
					s[i].Args = append(s[i].Args, conf)
				}
			}
		})
		if !withService {
			ap.pf.Postconf(t, "-MX", PolicydSPFService+"/unix")
		}
		ap.pf.Postconf(t, "-e",
			"mynetworks = 127.0.0.1/32", // so 127.0.0.2 is checked, not permitted
			"relay_domains = dest.test",
			"defer_transports = smtp relay", // keep mail in the queue
		)
		ap.pf.Start(t)
		out, _ := swaks(t, "--server", ap.pf.SMTPAddr, "--local-interface", "127.0.0.2",
			"--ehlo", "client.sender.invalid", "--from", "someone@sender.invalid", "--to", "user@dest.test")
		return out, ap
	}

	t.Run("answers", func(t *testing.T) {
		out, ap := run(t, true)
		m := regexp.MustCompile(`250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("message not accepted:\n%s", out)
		}
		bin, err := testdaemons.LookBin("postcat")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := exec.Command(bin, "-c", ap.pf.ConfigDir, "-hq", m[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("postcat: %v\n%s", err, msg)
		}
		if !strings.Contains(string(msg), "X-Comment: SPF check N/A for local connections - client-ip=127.0.0.2") {
			t.Errorf("no policyd-spf verdict in the queued message:\n%s", msg)
		}
	})
	t.Run("missing", func(t *testing.T) {
		out, _ := run(t, false)
		if !regexp.MustCompile(`451 4\.3\.5 .*Server configuration problem`).MatchString(out) {
			t.Errorf("without the policyd-spf service Postfix should defer (4.3.5):\n%s", out)
		}
	})
}
