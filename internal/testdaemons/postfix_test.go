package testdaemons_test

import (
	"bytes"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/internal/testdaemons"
)

// dkimSetup writes an RSA key, publishes it in Knot and writes an
// OpenDKIM configuration signing mail from example.test with selector sel.
// It returns the configuration path, the milter address and Knot.
func dkimSetup(t *testing.T) (conf, addr string, k *testdaemons.Knot) {
	t.Helper()
	testdaemons.Require(t, "opendkim", "opendkim-testkey", "knotd")
	d := testdaemons.Dir(t)
	key, err := dkimkeys.Generate(dkimkeys.RSA, 2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := dkimkeys.MarshalPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(d, "keys", "sel.private")
	if err := dkimkeys.WriteNew(keyPath, pemData); err != nil {
		t.Fatal(err)
	}
	k = testdaemons.StartKnot(t, map[string]string{
		"example.test": "sel._domainkey TXT " + testdaemons.DKIMTXT(t, key.Public()) + "\n",
	})
	addr = fmt.Sprintf("127.0.0.1:%d", testdaemons.FreePort(t))
	port := addr[strings.LastIndex(addr, ":")+1:]
	files := map[string]string{
		"KeyTable":     "sel._domainkey.example.test example.test:sel:" + keyPath + "\n",
		"SigningTable": "*@example.test sel._domainkey.example.test\n",
		"TrustedHosts": "127.0.0.1\n::1\nlocalhost\n",
		"opendkim.conf": fmt.Sprintf(`Syslog no
Background no
Mode sv
Canonicalization relaxed/simple
KeyTable refile:%[1]s/KeyTable
SigningTable refile:%[1]s/SigningTable
InternalHosts refile:%[1]s/TrustedHosts
ExternalIgnoreList refile:%[1]s/TrustedHosts
Socket inet:%[2]s@127.0.0.1
ResolverConfiguration %[3]s
`, d, port, k.UnboundConf(t, d)),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(d, "opendkim.conf"), addr, k
}

func TestOpenDKIMTestkey(t *testing.T) {
	conf, _, _ := dkimSetup(t)
	bin, _ := testdaemons.LookBin("opendkim-testkey")
	out, err := exec.Command(bin, "-x", conf, "-d", "example.test", "-s", "sel", "-vvv").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("key OK")) {
		t.Fatalf("opendkim-testkey: %v\n%s", err, out)
	}
}

// newRelay starts a Postfix that relays everything to a new smtp-sink and
// returns it with the sink's directory. extra are postconf -e settings.
func newRelay(t *testing.T, extra ...string) (*testdaemons.Postfix, string) {
	t.Helper()
	testdaemons.Require(t, "postfix", "postconf", "smtp-sink")
	sinkDir := testdaemons.Dir(t)
	sink := testdaemons.StartSMTPSink(t, sinkDir)
	p := testdaemons.NewPostfix(t, testdaemons.Dir(t))
	if out, err := p.Check(); err != nil {
		t.Fatalf("fresh instance fails postfix check: %v\n%s", err, out)
	}
	p.Postconf(t, append([]string{"-e",
		"myhostname = mail.example.test",
		"mydomain = example.test",
		"myorigin = example.test",
		"mynetworks = 127.0.0.0/8",
		"relayhost = [" + strings.Replace(sink, ":", "]:", 1),
	}, extra...)...)
	if out, err := p.Check(); err != nil {
		t.Fatalf("postfix check: %v\n%s", err, out)
	}
	p.Start(t)
	return p, sinkDir
}

const testMessage = "From: Alice <alice@example.test>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: testdaemons round trip\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
	"Message-ID: <roundtrip@example.test>\r\n" +
	"\r\n" +
	"Hello Bob.\r\n"

func TestPostfixRelaysToSink(t *testing.T) {
	p, sinkDir := newRelay(t)
	if err := smtp.SendMail(p.SMTPAddr, nil, "alice@example.test", []string{"bob@example.org"}, []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
	msgs := testdaemons.WaitMessages(t, sinkDir, 1, 30*time.Second)
	if len(msgs) != 1 || !bytes.Contains(msgs[0], []byte("Subject: testdaemons round trip")) {
		t.Fatalf("captured %q", msgs)
	}
	if !bytes.Contains(msgs[0], []byte("X-Rcpt-Args: <bob@example.org>")) {
		t.Errorf("no X-Rcpt-Args in %s", msgs[0])
	}
}

func TestPostfixSignsThroughOpenDKIM(t *testing.T) {
	conf, milter, _ := dkimSetup(t)
	testdaemons.StartOpenDKIM(t, conf, milter)
	p, sinkDir := newRelay(t,
		"smtpd_milters = inet:"+milter,
		"non_smtpd_milters = $smtpd_milters",
		"milter_default_action = tempfail",
	)
	if err := smtp.SendMail(p.SMTPAddr, nil, "alice@example.test", []string{"bob@example.org"}, []byte(testMessage)); err != nil {
		t.Fatal(err)
	}
	msg := testdaemons.WaitMessages(t, sinkDir, 1, 30*time.Second)[0]
	if !bytes.Contains(msg, []byte("DKIM-Signature:")) {
		t.Fatalf("no DKIM-Signature in\n%s", msg)
	}
	// The signature is not verified here: go-msgauth/dkim needs
	// golang.org/x/crypto, which go.sum does not list yet.
	for _, tag := range []string{"d=example.test;", "s=sel;"} {
		if !bytes.Contains(msg, []byte(tag)) {
			t.Errorf("DKIM-Signature without %s:\n%s", tag, msg)
		}
	}
}
