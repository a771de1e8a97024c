package apply_test

// End-to-end proof with real mail flow: a bundle is generated with --root
// into a scratch tree, installed there, and the real daemons run on
// loopback from what was installed — Knot serving the generated zone,
// OpenDKIM with the installed configuration, Postfix with the installed
// main.cf/master.cf — and a message sent to Postfix must come out at the
// stand-in for the next hop signed, with a DKIM signature that verifies
// against the zone and is DMARC-aligned with the From: domain.
//
// What the tests change in the installed configuration is only what a
// test on one machine with loopback alone must change; every override is
// made with postconf after the install and says why. Nothing leaves
// 127.0.0.0/8: the next hop is always smtp-sink or the Go SMTP stand-in.
//
// Test names are short on purpose: Postfix's socket paths under the test
// directory must stay below the 108-byte limit of Unix socket names.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
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
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/apply"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/layout"
)

// mfNow is the clock for answers defaults (the selectors are all given).
var mfNow = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

// mfSASLPassword is the relay password given to generate (sasl_passwd).
const mfSASLPassword = "bundle-relay-password"

// mfEnv is an installed bundle with its daemons.
type mfEnv struct {
	a      *answers.Answers
	l      layout.Layout
	root   string
	bundle string
	pf     *testdaemons.Postfix
	knot   *testdaemons.Knot
	// milters are the test OpenDKIM instances, as smtpd_milters entries;
	// installed are the sockets of the installed opendkim.conf files in
	// the same order, as smtpd_milters entries.
	milters, installed []string
}

// mfSetup generates testdata/mailflow/<topology>.yaml with --root into a
// scratch tree, installs it there (mfInstall) into a Postfix config
// directory seeded like a fresh Debian install, serves the generated
// zones from Knot and starts one OpenDKIM per installed configuration.
// before runs after generation and before the install (files the bundle
// references but does not ship). Postfix is not started: see mfStart.
func mfSetup(t *testing.T, topology string, before func(e *mfEnv)) *mfEnv {
	t.Helper()
	testdaemons.Require(t, "postfix", "postconf", "postmap", "opendkim", "knotd", "smtp-sink", "swaks")
	a, err := answers.Load(filepath.Join("testdata", "mailflow", topology+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(mfNow)
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	root := testdaemons.Dir(t)
	e := &mfEnv{a: a, l: layout.For(a.Server.Distro, root), root: root, bundle: filepath.Join(root, "bundle")}
	res, err := generate.Run(generate.Options{Answers: a, Out: e.bundle, Root: root, Version: "test",
		Rand: rand.Reader, SASLPassword: mfSASLPassword})
	if err != nil {
		t.Fatal(err)
	}
	// The Postfix config directory is where the bundle expects it
	// (<root>/etc/postfix); queue and data go to <root>/pf.
	e.pf = testdaemons.NewPostfixAt(t, filepath.Join(root, "pf"), e.l.PostfixDir)
	if before != nil {
		before(e)
	}
	mfInstall(t, e.bundle, root)

	zones := map[string]string{}
	for _, f := range res.Files {
		if strings.HasPrefix(f.Path, "dns/") && strings.HasSuffix(f.Path, ".zone") {
			zones[strings.TrimSuffix(strings.TrimPrefix(f.Path, "dns/"), ".zone")] = string(f.Data)
		}
	}
	e.knot = testdaemons.StartKnot(t, zones)

	// /run/opendkim is made by Debian's package (tmpfiles.d), not by the
	// bundle: make it in the scratch tree for the pid files.
	mfMkdirOwned(t, filepath.Join(root, "run", "opendkim"), "opendkim")
	unbound := e.knot.UnboundConf(t, root)
	confs := []string{e.l.OpenDKIMConf}
	if a.UsesEd25519() {
		confs = append(confs, e.l.Ed25519Conf)
	}
	for _, conf := range confs {
		port := testdaemons.FreePort(t)
		c, orig := mfOpenDKIMConf(t, conf, port, unbound)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		testdaemons.StartOpenDKIM(t, c, addr)
		e.milters = append(e.milters, "inet:"+addr)
		e.installed = append(e.installed, orig)
	}
	return e
}

// mfStart points Postfix at the test milters and at next (the stand-in for
// the internet or the relay, "[127.0.0.1]:port"), applies the test's
// overrides and starts Postfix.
func (e *mfEnv) mfStart(t *testing.T, next string, overrides ...string) {
	t.Helper()
	// Overridden: the generated milters are on the fixed ports 8891/8892,
	// which parallel tests (and a real OpenDKIM) may hold; each test runs
	// its own OpenDKIM instances on free ports. non_smtpd_milters stays
	// "$smtpd_milters" as installed.
	// So first check that what is replaced fits together as installed:
	// Postfix's milters are exactly the sockets the installed OpenDKIM
	// configurations listen on.
	if got, want := e.mfPostconfH(t, "smtpd_milters"), strings.Join(e.installed, ", "); got != want {
		t.Errorf("installed smtpd_milters = %q, but the installed OpenDKIM instances listen on %q", got, want)
	}
	if got := e.mfPostconfH(t, "non_smtpd_milters"); got != "$smtpd_milters" {
		t.Errorf("installed non_smtpd_milters = %q, want $smtpd_milters", got)
	}
	// relayhost: the generated next hop is a real host on the internet
	// (Office 365, the smarthost) or, in direct mode, the recipient's MX;
	// the test has loopback only.
	args := []string{"-e", "smtpd_milters = " + strings.Join(e.milters, ", "), "relayhost = " + next}
	e.pf.Postconf(t, append(args, overrides...)...)
	if out, err := e.pf.Check(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	e.pf.Start(t)
}

// mfInstall installs the bundle under root with apply.Apply, as
// "sendready apply --root ROOT --yes" does: every command (postconf,
// postmap, postfix check, opendkim -n) runs for real. The hostname is the
// bundle's, as on the machine it was generated for.
func mfInstall(t *testing.T, bundleDir, root string) {
	t.Helper()
	var out bytes.Buffer
	res, err := apply.Apply(context.Background(), apply.Options{
		Bundle:   bundleDir,
		Root:     root,
		Yes:      true,
		Out:      &out,
		Err:      &out,
		Hostname: func() (string, error) { return "mail.example.test", nil },
	})
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if res.NoChanges() {
		t.Fatalf("apply changed nothing in a fresh tree:\n%s", out.String())
	}
}

// mfOpenDKIMConf copies an installed opendkim.conf, changing only what the
// test must: the Socket (a free port instead of 8891/8892) and a
// ResolverConfiguration that sends OpenDKIM's DNS questions to Knot (the
// system resolver is not on loopback). Background is left alone:
// StartOpenDKIM runs opendkim -f. It returns the copy and the installed
// socket as Postfix names it (inet:127.0.0.1:8891).
func mfOpenDKIMConf(t *testing.T, conf string, port int, unbound string) (string, string) {
	t.Helper()
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^Socket\s+inet:(\d+)@(\S+)$`)
	m := re.FindAllSubmatch(data, -1)
	if len(m) != 1 || strings.Count(string(data), "\nSocket") != 1 {
		t.Fatalf("%s: want exactly one Socket inet:PORT@HOST line:\n%s", conf, data)
	}
	orig := "inet:" + string(m[0][2]) + ":" + string(m[0][1])
	data = re.ReplaceAll(data, []byte(fmt.Sprintf("Socket\t\t\tinet:%d@127.0.0.1", port)))
	data = append(data, []byte("\n# test: resolve through the loopback Knot\nResolverConfiguration "+unbound+"\n")...)
	c := conf + ".test"
	if err := os.WriteFile(c, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return c, orig
}

func mfMkdirOwned(t *testing.T, dir, owner string) {
	t.Helper()
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// mfSink starts smtp-sink (the internet) and returns its directory and
// relayhost value.
func mfSink(t *testing.T) (dir, next string) {
	t.Helper()
	dir = testdaemons.Dir(t)
	addr := testdaemons.StartSMTPSink(t, dir)
	return dir, "[" + strings.Replace(addr, ":", "]:", 1)
}

// mfStubNext is the relayhost value for a stand-in.
func mfStubNext(s *testdaemons.SMTPStub) string {
	return "[" + strings.Replace(s.Addr, ":", "]:", 1)
}

// mfSwaks sends one message with swaks and returns the transcript and
// whether swaks exited 0.
func mfSwaks(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	bin, err := testdaemons.LookBin("swaks")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append([]string{"--timeout", "30"}, args...)...).CombinedOutput()
	return string(out), err == nil
}

// mfSend sends a message From admin@example.test to someone@example.org
// through Postfix's smtpd and fails the test unless Postfix queued it.
func (e *mfEnv) mfSend(t *testing.T, subject string, extra ...string) {
	t.Helper()
	args := append([]string{"--server", e.pf.SMTPAddr, "--ehlo", "app.example.test",
		"--from", "admin@example.test", "--to", "someone@example.org",
		"--header", "Subject: " + subject}, extra...)
	out, ok := mfSwaks(t, args...)
	if !ok || !regexp.MustCompile(`250 2\.0\.0 Ok: queued as`).MatchString(out) {
		t.Fatalf("Postfix did not accept the message:\n%s", out)
	}
}

// mfSigTags parses the tags of every DKIM-Signature header of msg.
func mfSigTags(t *testing.T, msg []byte) []map[string]string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("captured message does not parse: %v\n%s", err, msg)
	}
	var out []map[string]string
	for _, h := range m.Header["Dkim-Signature"] {
		tags := map[string]string{}
		for _, kv := range strings.Split(h, ";") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			tags[strings.TrimSpace(k)] = strings.Join(strings.Fields(v), "")
		}
		out = append(out, tags)
	}
	return out
}

// mfOrgDomain approximates the organizational domain (RFC 7489 3.2) by the
// last two labels; every domain in these tests sits right under a
// one-label public suffix (.test, .org).
func mfOrgDomain(d string) string {
	labels := strings.Split(strings.TrimSuffix(strings.ToLower(d), "."), ".")
	if len(labels) <= 2 {
		return strings.Join(labels, ".")
	}
	return strings.Join(labels[len(labels)-2:], ".")
}

// mfVerify checks that msg carries exactly one DKIM signature per wanted
// algorithm ("rsa-sha256", "ed25519-sha256"), that every signature
// verifies against the keys Knot serves, and that each is DMARC-aligned
// with the From: domain under the domain's published DMARC record.
// It also checks the verification can fail: a changed body must not verify.
func mfVerify(t *testing.T, msg []byte, knot string, algs ...string) {
	t.Helper()
	lookup := testdaemons.LookupTXT(knot)
	sigs := mfSigTags(t, msg)
	var got []string
	for _, s := range sigs {
		got = append(got, s["a"])
	}
	if !mfSameSet(got, algs) {
		t.Errorf("DKIM-Signature algorithms %q, want %q\n%s", got, algs, msg)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil {
		t.Fatalf("dkim verify: %v\n%s", err, msg)
	}
	if len(vs) != len(algs) {
		t.Fatalf("%d DKIM verifications, want %d\n%s", len(vs), len(algs), msg)
	}

	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	from, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		t.Fatalf("From: %q: %v", m.Header.Get("From"), err)
	}
	_, fromDomain, _ := strings.Cut(from.Address, "@")
	rec, err := dmarc.LookupWithOptions(fromDomain, &dmarc.LookupOptions{LookupTXT: lookup})
	if errors.Is(err, dmarc.ErrNoPolicy) || err != nil && mfOrgDomain(fromDomain) != fromDomain {
		// RFC 7489 6.6.3: fall back to the organizational domain.
		rec, err = dmarc.LookupWithOptions(mfOrgDomain(fromDomain), &dmarc.LookupOptions{LookupTXT: lookup})
	}
	if err != nil {
		t.Fatalf("DMARC record of %s: %v", fromDomain, err)
	}
	for i, v := range vs {
		if v.Err != nil {
			t.Errorf("signature %d (d=%s, a=%s) does not verify: %v", i, v.Domain, sigs[i]["a"], v.Err)
			continue
		}
		aligned := strings.EqualFold(v.Domain, fromDomain)
		if !aligned && rec.DKIMAlignment != dmarc.AlignmentStrict {
			aligned = mfOrgDomain(v.Domain) == mfOrgDomain(fromDomain)
		}
		if !aligned {
			t.Errorf("signature %d: d=%s is not DMARC-aligned (adkim=%q) with From: %s", i, v.Domain, rec.DKIMAlignment, from.Address)
		}
	}

	// The check above can fail: a changed body breaks every signature.
	cut, sep := bytes.Index(msg, []byte("\n\n")), 2
	if j := bytes.Index(msg, []byte("\r\n\r\n")); j >= 0 && (cut < 0 || j < cut) {
		cut, sep = j, 4
	}
	if cut < 0 {
		t.Fatalf("no body in\n%s", msg)
	}
	tampered := append(append(append([]byte{}, msg[:cut+sep]...), "Tampered.\r\n"...), msg[cut+sep:]...)
	if vs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: lookup}); err != nil || len(vs) != len(algs) {
		t.Errorf("tampered message: %v %+v", err, vs)
	} else {
		for _, v := range vs {
			if v.Err == nil {
				t.Errorf("a tampered message still verifies (d=%s)", v.Domain)
			}
		}
	}
}

func mfSameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

// mfHeader returns a header of msg.
func mfHeader(t *testing.T, msg []byte, key string) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get(key)
}

// mfReceivedFrom checks that Postfix's Received: header in msg names the
// client address ip: the message really came from that source address
// (127.0.0.1 is in mynetworks too, so this is what makes the check count).
func mfReceivedFrom(t *testing.T, msg []byte, ip string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Header["Received"] {
		if strings.Contains(r, "by mail.example.test (Postfix)") {
			if !strings.Contains(r, "["+ip+"]") {
				t.Errorf("Postfix received the message from another client than %s: %s", ip, r)
			}
			return
		}
	}
	t.Errorf("no Received: header from Postfix in\n%s", msg)
}

// mfPostconfH returns postconf -h name.
func (e *mfEnv) mfPostconfH(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(e.pf.Postconf(t, "-h", name))
}

// TestMailflowDirect: direct sending. A message sent to the installed
// Postfix reaches the internet (smtp-sink) with a DKIM signature from the
// installed OpenDKIM that verifies against the generated zone and is
// aligned with From:; with algorithm both, the two OpenDKIM instances of
// the bundle add an rsa-sha256 and an ed25519-sha256 signature that both
// verify.
func TestMailflowDirect(t *testing.T) {
	for _, tc := range []struct {
		topology string
		algs     []string
	}{
		{"direct", []string{"rsa-sha256"}},
		{"direct-both", []string{"rsa-sha256", "ed25519-sha256"}},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			t.Parallel()
			e := mfSetup(t, tc.topology, nil)
			if len(e.milters) != len(tc.algs) {
				t.Fatalf("%d OpenDKIM instances installed, want %d", len(e.milters), len(tc.algs))
			}
			if got := e.mfPostconfH(t, "relayhost"); got != "" {
				t.Errorf("installed relayhost = %q, want none in direct mode", got)
			}
			sink, next := mfSink(t)
			e.mfStart(t, next)
			e.mfSend(t, "direct "+tc.topology)
			msgs := testdaemons.WaitMessages(t, sink, 1, 60*time.Second)
			if len(msgs) != 1 {
				t.Fatalf("%d messages at the sink, want 1", len(msgs))
			}
			mfVerify(t, msgs[0], e.knot.Addr, tc.algs...)
			if got := mfHeader(t, msgs[0], "From"); got != "admin@example.test" {
				t.Errorf("From: %q", got)
			}
		})
	}
}

// TestMailflowOffice365: the inbound-connector topology. The stand-in for
// the Office 365 smart host offers STARTTLS with a certificate from a test
// CA and asks for a client certificate. Postfix must deliver over TLS
// (smtp_tls_security_level = encrypt, as generated), signed; with the
// certificate connector the client certificate at the bundle's
// smtp_tls_cert_file/key_file is presented, and without it none is.
func TestMailflowOffice365(t *testing.T) {
	for _, tc := range []struct {
		topology string
		certCN   string
	}{
		{"o365-ip", ""},
		{"o365-cert", "mail.example.test"},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			t.Parallel()
			e := mfSetup(t, tc.topology, func(e *mfEnv) {
				// The certificate the admin obtained (the bundle references
				// it, it does not ship it), at the paths the answers give.
				if c := e.a.Relay.Office365.Certificate; c.CertFile != "" {
					testdaemons.SelfSignedCert(t, layout.Join(e.root, c.CertFile), layout.Join(e.root, c.KeyFile), c.Name)
				}
			})
			if got, want := e.mfPostconfH(t, "relayhost"), "[example-test.mail.protection.outlook.com]:25"; got != want {
				t.Errorf("installed relayhost = %q, want %q", got, want)
			}
			if tc.certCN != "" {
				c := e.a.Relay.Office365.Certificate
				if got := e.mfPostconfH(t, "smtp_tls_cert_file"); got != layout.Join(e.root, c.CertFile) {
					t.Errorf("smtp_tls_cert_file = %q", got)
				}
				if got := e.mfPostconfH(t, "smtp_tls_key_file"); got != layout.Join(e.root, c.KeyFile) {
					t.Errorf("smtp_tls_key_file = %q", got)
				}
			}
			stub := testdaemons.StartSMTPStub(t, testdaemons.SMTPStubOptions{
				Hostname: "example-test.mail.protection.outlook.com", RequestClientCert: true, RequireTLS: true})
			// smtp_tls_CAfile: trust the stand-in's test CA (the bundle's
			// CApath holds the public CAs, which Office 365's certificate
			// chains to). smtp_tls_security_level stays "encrypt".
			e.mfStart(t, mfStubNext(stub), "smtp_tls_CAfile = "+stub.CAFile)
			if got := e.mfPostconfH(t, "smtp_tls_security_level"); got != "encrypt" {
				t.Fatalf("smtp_tls_security_level = %q, want encrypt as generated", got)
			}
			e.mfSend(t, "connector "+tc.topology)
			msgs := stub.WaitMessages(1, 60*time.Second)
			m := msgs[0]
			if !m.TLS() {
				t.Error("the message reached the smart host without TLS")
			}
			t.Logf("TLS %s, client certificate %q", tls.VersionName(m.TLSVersion), m.ClientCertSubject)
			if m.ClientCertCN != tc.certCN {
				t.Errorf("client certificate CN %q (%s), want %q", m.ClientCertCN, m.ClientCertSubject, tc.certCN)
			}
			if m.From != "admin@example.test" || strings.Join(m.Rcpts, ",") != "someone@example.org" {
				t.Errorf("envelope: MAIL FROM %q, RCPT %q", m.From, m.Rcpts)
			}
			if m.Helo != "mail.example.test" {
				t.Errorf("EHLO %q, want the generated myhostname", m.Helo)
			}
			mfVerify(t, m.Data, e.knot.Addr, "rsa-sha256")
		})
	}
}

// TestMailflowSMTPAuth: relaying with SMTP AUTH (Office 365 SMTP AUTH and
// a smarthost with a user name). The stand-in requires STARTTLS and then
// AUTH with the bundle's credentials; the message must arrive over TLS,
// authenticated as the bundle's user, signed, and — for Office 365 — with
// the envelope sender rewritten to the mailbox while From: is unchanged.
//
// sasl_passwd is keyed by the generated relayhost ("[smtp.office365.com]:587",
// "[relay.example.net]:587"), and Postfix looks credentials up by the next
// hop as written in relayhost. Moving relayhost to the stand-in therefore
// also needs the key moved. The test does not edit the installed
// sasl_passwd: it checks that the installed map has a line for exactly the
// installed relayhost, copies that line with the key replaced by the
// stand-in's next hop into a map of its own, postmaps it, and points
// smtp_sasl_password_maps there. The user name and password Postfix sends
// are thus the bundle's.
func TestMailflowSMTPAuth(t *testing.T) {
	for _, tc := range []struct {
		topology string
		relay    string // the generated relayhost
		user     string
		envFrom  string // MAIL FROM at the relay
	}{
		{"o365-auth", "[smtp.office365.com]:587", "relay@example.test", "relay@example.test"},
		{"smarthost", "[relay.example.net]:587", "relayuser", "admin@example.test"},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			t.Parallel()
			e := mfSetup(t, tc.topology, nil)
			if got := e.mfPostconfH(t, "relayhost"); got != tc.relay {
				t.Fatalf("installed relayhost = %q, want %q", got, tc.relay)
			}
			stub := testdaemons.StartSMTPStub(t, testdaemons.SMTPStubOptions{
				Hostname: "smtp.stub.test", RequireTLS: true, Username: tc.user, Password: mfSASLPassword})
			next := mfStubNext(stub)
			testMap := mfRekeySASL(t, e, tc.relay, next)
			e.mfStart(t, next, "smtp_sasl_password_maps = hash:"+testMap, "smtp_tls_CAfile = "+stub.CAFile)
			if got := e.mfPostconfH(t, "smtp_tls_security_level"); got != "encrypt" {
				t.Fatalf("smtp_tls_security_level = %q, want encrypt as generated", got)
			}
			e.mfSend(t, "auth "+tc.topology)
			msgs := stub.WaitMessages(1, 60*time.Second)
			m := msgs[0]
			if !m.TLS() {
				t.Error("the message reached the relay without TLS")
			}
			if m.AuthUser != tc.user {
				t.Errorf("authenticated as %q, want %q", m.AuthUser, tc.user)
			}
			t.Logf("TLS %s, AUTH %s as %q", tls.VersionName(m.TLSVersion), m.AuthMech, m.AuthUser)
			if m.From != tc.envFrom {
				t.Errorf("MAIL FROM %q, want %q", m.From, tc.envFrom)
			}
			if got := mfHeader(t, m.Data, "From"); got != "admin@example.test" {
				t.Errorf("From: %q, want it unchanged (admin@example.test)", got)
			}
			if strings.Join(m.Rcpts, ",") != "someone@example.org" {
				t.Errorf("RCPT %q", m.Rcpts)
			}
			mfVerify(t, m.Data, e.knot.Addr, "rsa-sha256")
		})
	}
}

// mfRekeySASL copies the installed sasl_passwd line for relay into a test
// map keyed by next, postmaps it and returns its path.
func mfRekeySASL(t *testing.T, e *mfEnv, relay, next string) string {
	t.Helper()
	if got := e.mfPostconfH(t, "smtp_sasl_password_maps"); got != "hash:"+e.l.SASLPasswd {
		t.Fatalf("installed smtp_sasl_password_maps = %q, want hash:%s", got, e.l.SASLPasswd)
	}
	data, err := os.ReadFile(e.l.SASLPasswd)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if f[0] != relay {
				t.Errorf("sasl_passwd key %q does not equal relayhost %q: Postfix would not find the credentials", f[0], relay)
			}
			lines = append(lines, next+" "+f[1])
		}
	}
	if len(lines) != 1 {
		t.Fatalf("sasl_passwd: %d credential lines, want 1:\n%s", len(lines), data)
	}
	p := filepath.Join(e.root, "pf", "sasl_test")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := testdaemons.LookBin("postmap")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-c", e.pf.ConfigDir, "hash:"+p).CombinedOutput(); err != nil {
		t.Fatalf("postmap: %v\n%s", err, out)
	}
	return p
}

// TestMailflowRelay: the relay-server role. The upstream 127.0.0.2
// (relay.upstream.networks) may relay by address and its mail is signed;
// 127.0.0.3, an outsider, is refused with "Relay access denied" (not an
// open relay); on the submission service an outsider that logs in with a
// sasldb user is relayed and signed, one that does not log in is refused.
func TestMailflowRelay(t *testing.T) {
	testdaemons.Require(t, "saslpasswd2")
	const saslUser, saslPass = "upstream", "correct horse battery"
	var serverCert string
	e := mfSetup(t, "relay", func(e *mfEnv) {
		// The distribution's snakeoil certificate (package ssl-cert) that
		// the generated smtpd_tls_cert_file names.
		serverCert = layout.Join(e.root, "/etc/ssl/certs/ssl-cert-snakeoil.pem")
		testdaemons.SelfSignedCert(t, serverCert, layout.Join(e.root, "/etc/ssl/private/ssl-cert-snakeoil.key"), e.a.Server.Hostname)
		// Debian's postfix package makes /var/spool/postfix/etc (0755),
		// where the sasldb goes.
		if err := os.MkdirAll(filepath.Dir(e.l.SASLDBFile), 0o755); err != nil {
			t.Fatal(err)
		}
	})
	if got, want := e.mfPostconfH(t, "mynetworks"), "127.0.0.0/8 [::1]/128 127.0.0.2/32"; got != want {
		t.Errorf("installed mynetworks = %q, want %q", got, want)
	}
	// The sasldb user, as the admin would create it (password on stdin),
	// readable by Postfix (Debian: group sasl, adduser postfix sasl).
	bin, _ := testdaemons.LookBin("saslpasswd2")
	cmd := exec.Command(bin, "-f", e.l.SASLDBFile, "-u", e.a.Server.Hostname, "-c", "-p", saslUser)
	cmd.Stdin = strings.NewReader(saslPass)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("saslpasswd2: %v\n%s", err, out)
	}
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	gid, _ := strconv.Atoi(pfUser.Gid)
	if err := os.Chown(e.l.SASLDBFile, uid, gid); err != nil {
		t.Fatal(err)
	}

	// The submission service moves from port 587 (not ours in a test) to
	// a free loopback port; its options stay as installed.
	entry := strings.Fields(e.pf.Postconf(t, "-M", "submission/inet"))
	if len(entry) < 8 || entry[0] != "submission" {
		t.Fatalf("installed master.cf has no submission service: %q", entry)
	}
	subm := fmt.Sprintf("127.0.0.1:%d", testdaemons.FreePort(t))
	entry[0] = subm
	e.pf.Postconf(t, "-MX", "submission/inet")
	e.pf.Postconf(t, "-M", subm+"/inet="+strings.Join(entry, " "))

	sink, next := mfSink(t)
	// mynetworks: the generated value trusts all of 127.0.0.0/8 (this
	// host) plus the upstream 127.0.0.2/32. On a test machine every
	// "host" is a loopback address, so this host is narrowed to
	// 127.0.0.1/32 to make 127.0.0.3 an outsider; the upstream network is
	// kept as generated.
	e.mfStart(t, next, "mynetworks = 127.0.0.1/32 127.0.0.2/32")

	t.Run("upstream", func(t *testing.T) {
		e.mfSend(t, "from upstream", "--local-interface", "127.0.0.2")
		msgs := testdaemons.WaitMessages(t, sink, 1, 60*time.Second)
		if len(msgs) != 1 || mfHeader(t, msgs[0], "Subject") != "from upstream" {
			t.Fatalf("sink holds %d message(s), want the upstream's", len(msgs))
		}
		mfReceivedFrom(t, msgs[0], "127.0.0.2")
		mfVerify(t, msgs[0], e.knot.Addr, "rsa-sha256", "ed25519-sha256")
	})
	t.Run("outsider", func(t *testing.T) {
		out, ok := mfSwaks(t, "--server", e.pf.SMTPAddr, "--local-interface", "127.0.0.3", "--ehlo", "outsider.example",
			"--from", "admin@example.test", "--to", "someone@example.org", "--header", "Subject: from outsider")
		if ok || !regexp.MustCompile(`(454 4\.7\.1|554 5\.7\.1) .*Relay access denied`).MatchString(out) {
			t.Errorf("an outsider should get Relay access denied (454 or 554):\n%s", out)
		}
	})

	pool := x509.NewCertPool()
	certPEM, err := os.ReadFile(serverCert)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(certPEM)
	tlsConf := &tls.Config{ServerName: e.a.Server.Hostname, RootCAs: pool}
	t.Run("auth", func(t *testing.T) {
		err := mfSubmit(t, subm, "127.0.0.3", tlsConf, smtp.PlainAuth("", saslUser, saslPass, "127.0.0.1"), "authenticated")
		if err != nil {
			t.Fatalf("authenticated submission from 127.0.0.3: %v", err)
		}
		msgs := testdaemons.WaitMessages(t, sink, 2, 60*time.Second)
		var got []byte
		for _, m := range msgs {
			if mfHeader(t, m, "Subject") == "authenticated" {
				got = m
			}
		}
		if got == nil {
			t.Fatalf("the authenticated message did not reach the sink (%d messages)", len(msgs))
		}
		mfReceivedFrom(t, got, "127.0.0.3")
		mfVerify(t, got, e.knot.Addr, "rsa-sha256", "ed25519-sha256")
	})
	t.Run("noauth", func(t *testing.T) {
		err := mfSubmit(t, subm, "127.0.0.3", tlsConf, nil, "unauthenticated")
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 554 || !strings.HasPrefix(te.Msg, "5.7.1 ") {
			t.Errorf("unauthenticated submission: %v, want 554 5.7.1", err)
		}
	})
	// Nothing from the outsider or the unauthenticated client got out.
	time.Sleep(500 * time.Millisecond)
	if msgs := testdaemons.WaitMessages(t, sink, 0, 10*time.Second); len(msgs) != 2 {
		t.Errorf("sink holds %d messages, want 2 (upstream, authenticated)", len(msgs))
	}
}

// mfSubmit sends one message from the source address src to addr with
// STARTTLS and, when auth is set, AUTH; it returns the first error.
func mfSubmit(t *testing.T, addr, src string, tlsConf *tls.Config, auth smtp.Auth, subject string) error {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("upstream.example.net"); err != nil {
		return err
	}
	if err := c.StartTLS(tlsConf); err != nil {
		return err
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("admin@example.test"); err != nil {
		return err
	}
	if err := c.Rcpt("someone@example.org"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	msg := "From: admin@example.test\r\nTo: someone@example.org\r\nSubject: " + subject + "\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.test>\r\n\r\nHello from upstream.\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
