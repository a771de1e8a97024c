package dkimkeys_test

import (
	"crypto"
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

// published writes an RSA and an ed25519 key with WriteNew into a
// testdaemons.Dir (keys/rsa1.private, keys/ed1.private), publishes their
// records in Knot and returns the directory, the keys and Knot.
func published(t *testing.T) (string, map[string]crypto.Signer, *testdaemons.Knot) {
	t.Helper()
	testdaemons.Require(t, "knotd", "named-checkzone")
	dir := testdaemons.Dir(t)
	rsaK, err := dkimkeys.Generate(dkimkeys.RSA, 2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	edK, err := dkimkeys.Generate(dkimkeys.Ed25519, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.Signer{"rsa1": rsaK, "ed1": edK}
	zone := ""
	for _, sel := range []string{"rsa1", "ed1"} {
		k := keys[sel]
		data, err := dkimkeys.MarshalPEM(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := dkimkeys.WriteNew(filepath.Join(dir, "keys", sel+".private"), data); err != nil {
			t.Fatal(err)
		}
		zone += sel + "._domainkey TXT " + testdaemons.DKIMTXT(t, k.Public()) + "\n"
	}
	testdaemons.CheckZone(t, "example.test", zone)
	return dir, keys, testdaemons.StartKnot(t, map[string]string{"example.test": zone})
}

// TestOpenDKIMTestkey has opendkim-testkey check keys written by WriteNew
// against the records published in Knot.
//
// Trap (OpenDKIM 2.11.0~beta2): opendkim-testkey -k only handles RSA. With
// an ed25519 private key it fails with "EVP_PKEY_get1_RSA() failed ...
// expecting an rsa key" (exit 69) whether or not the configuration says
// SignatureAlgorithm ed25519-sha256. Without -k it fetches and parses the
// ed25519 record and says "key OK" (again with or without that setting).
// So for ed25519, testkey checks the record only; that the private key
// matches is shown by TestOpenDKIMSignsWithEd25519.
func TestOpenDKIMTestkey(t *testing.T) {
	testdaemons.Require(t, "opendkim-testkey")
	bin, _ := testdaemons.LookBin("opendkim-testkey")
	dir, _, knot := published(t)
	resolver := knot.UnboundConf(t, dir)
	tests := []struct {
		sel, sigAlg string
		withKey     bool
		wantOK      bool
	}{
		{"rsa1", "", true, true},
		{"rsa1", "", false, true},
		{"ed1", "", false, true},
		{"ed1", "ed25519-sha256", false, true},
		{"ed1", "ed25519-sha256", true, false}, // the trap above
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/k=%v", tt.sel, tt.sigAlg, tt.withKey), func(t *testing.T) {
			conf := filepath.Join(dir, fmt.Sprintf("opendkim-%s-%s-%v.conf", tt.sel, tt.sigAlg, tt.withKey))
			c := "Syslog no\nResolverConfiguration " + resolver + "\n"
			if tt.sigAlg != "" {
				c += "SignatureAlgorithm " + tt.sigAlg + "\n"
			}
			if err := os.WriteFile(conf, []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"-x", conf, "-d", "example.test", "-s", tt.sel, "-vvv"}
			if tt.withKey {
				args = append(args, "-k", filepath.Join(dir, "keys", tt.sel+".private"))
			}
			out, err := exec.Command(bin, args...).CombinedOutput()
			ok := err == nil && strings.Contains(string(out), "key OK")
			if ok != tt.wantOK {
				t.Fatalf("opendkim-testkey %s: %v, want key OK = %v\n%s", strings.Join(args, " "), err, tt.wantOK, out)
			}
		})
	}
}

// TestOpenDKIMSignsWithEd25519 has an OpenDKIM instance with
// SignatureAlgorithm ed25519-sha256 sign through Postfix with the PKCS#8
// key WriteNew wrote: the message reaching the sink carries an
// ed25519-sha256 signature for selector ed1.
func TestOpenDKIMSignsWithEd25519(t *testing.T) {
	testdaemons.Require(t, "opendkim", "postfix", "postconf", "smtp-sink")
	dir, _, knot := published(t)
	milter := fmt.Sprintf("127.0.0.1:%d", testdaemons.FreePort(t))
	_, port, _ := strings.Cut(milter, ":")
	files := map[string]string{
		"KeyTable":     "ed1._domainkey.example.test example.test:ed1:" + filepath.Join(dir, "keys", "ed1.private") + "\n",
		"SigningTable": "*@example.test ed1._domainkey.example.test\n",
		"TrustedHosts": "127.0.0.1\n",
		"opendkim.conf": fmt.Sprintf(`Syslog no
Background no
Mode s
SignatureAlgorithm ed25519-sha256
Canonicalization relaxed/simple
KeyTable refile:%[1]s/KeyTable
SigningTable refile:%[1]s/SigningTable
InternalHosts refile:%[1]s/TrustedHosts
Socket inet:%[2]s@127.0.0.1
ResolverConfiguration %[3]s
`, dir, port, knot.UnboundConf(t, dir)),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testdaemons.StartOpenDKIM(t, filepath.Join(dir, "opendkim.conf"), milter)

	sinkDir := testdaemons.Dir(t)
	sink := testdaemons.StartSMTPSink(t, sinkDir)
	pf := testdaemons.NewPostfix(t, testdaemons.Dir(t))
	pf.Postconf(t, "-e",
		"myhostname = mail.example.test",
		"mynetworks = 127.0.0.0/8",
		"relayhost = ["+strings.Replace(sink, ":", "]:", 1),
		"smtpd_milters = inet:"+milter,
		"milter_default_action = tempfail",
	)
	if out, err := pf.Check(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	pf.Start(t)
	msg := "From: alice@example.test\r\nTo: bob@example.org\r\nSubject: ed25519\r\n\r\nHi.\r\n"
	if err := smtp.SendMail(pf.SMTPAddr, nil, "alice@example.test", []string{"bob@example.org"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := string(testdaemons.WaitMessages(t, sinkDir, 1, 30*time.Second)[0])
	sig := strings.ReplaceAll(strings.ReplaceAll(got, "\n\t", " "), "\t", " ")
	for _, want := range []string{"DKIM-Signature:", "a=ed25519-sha256;", "d=example.test;", "s=ed1;"} {
		if !strings.Contains(sig, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
}
