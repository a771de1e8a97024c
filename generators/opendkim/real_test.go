package opendkim

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/layout"
)

// realAnswers has a domain signing with both algorithms, an RSA-only
// domain, a domain whose key is held elsewhere, and upstream networks of
// both families.
func realAnswers() *answers.Answers {
	return &answers.Answers{
		Server: answers.Server{Hostname: "mail.example.test", IPv4: []string{"192.0.2.10"}, Distro: answers.DistroDebian},
		Domains: []answers.Domain{
			{Name: "example.test", DKIM: answers.DKIM{Selector: "s2026", Algorithm: answers.AlgBoth, Bits: 2048}},
			{Name: "other.test", DKIM: answers.DKIM{Selector: "o1", Algorithm: answers.AlgRSA, Bits: 2048}},
			{Name: "ext.test", DKIM: answers.DKIM{Selector: "x1", Algorithm: answers.AlgRSA, Bits: 2048, PublicKey: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}},
		},
		Relay: answers.Relay{Mode: answers.ModeDirect, AllowPrivate: true, Upstream: answers.Upstream{
			Networks: []string{"192.0.2.0/24", "2001:db8::/32", "198.51.100.25"},
		}},
	}
}

// realTree generates the files for a Debian layout under a fresh scratch
// root, writes them and a private key for every KeyFile (owned by opendkim,
// 0600, as apply installs them), and returns the layout and the DKIM TXT
// value of each local signer by KeyName.
func realTree(t *testing.T, a *answers.Answers) (layout.Layout, map[string]string) {
	t.Helper()
	root := testdaemons.Dir(t)
	in := generators.Input{Answers: a, Layout: layout.For("debian", root), Version: "test"}
	files, err := Files(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		writeFile(t, f.Target, f.Data, f.Mode)
	}

	uid, gid := opendkimIDs(t)
	// The pid file's directory, as Debian's tmpfiles.d makes it.
	mkdirOwned(t, filepath.Join(root, "run/opendkim"), 0o750, uid, gid)

	records := map[string]string{}
	for _, k := range KeyFiles(in) {
		key, err := dkimkeys.Generate(k.Signer.Algorithm, k.Signer.Bits, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pemData, err := dkimkeys.MarshalPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(k.Target)
		mkdirOwned(t, filepath.Dir(dir), 0o750, uid, gid) // keys/
		mkdirOwned(t, dir, 0o700, uid, gid)               // keys/<domain>/
		writeFile(t, k.Target, pemData, 0o600)
		if err := os.Chown(k.Target, uid, gid); err != nil {
			t.Fatal(err)
		}
		records[k.Signer.KeyName()] = testdaemons.DKIMTXT(t, key.Public())
	}
	return in.Layout, records
}

func TestRealOpenDKIMAcceptsConfig(t *testing.T) {
	testdaemons.Require(t, "opendkim")
	l, _ := realTree(t, realAnswers())
	bin, _ := testdaemons.LookBin("opendkim")
	for _, conf := range []string{l.OpenDKIMConf, l.Ed25519Conf} {
		out, err := exec.Command(bin, "-n", "-x", conf).CombinedOutput()
		if err != nil {
			t.Errorf("opendkim -n -x %s: %v\n%s\nconf:\n%s", conf, err, out, readFile(t, conf))
		}
	}
}

func TestRealOpenDKIMTestkey(t *testing.T) {
	testdaemons.Require(t, "opendkim", "opendkim-testkey", "knotd")
	a := realAnswers()
	// mismatch.test publishes keys other than the ones on disk, to show
	// that testkey does compare the keys.
	a.Domains = append(a.Domains, answers.Domain{Name: "mismatch.test", DKIM: answers.DKIM{Selector: "m1", Algorithm: answers.AlgBoth, Bits: 1024}})
	l, records := realTree(t, a)
	otherRSA, otherEd := otherKey(t, answers.AlgRSA, 1024), otherKey(t, answers.AlgEd25519, 0)
	records["m1._domainkey.mismatch.test"] = otherRSA
	records["m1-ed._domainkey.mismatch.test"] = otherEd

	zones := map[string]string{}
	for _, s := range a.Signers() {
		if rec, ok := records[s.KeyName()]; ok {
			zones[s.Domain] += s.Selector + "._domainkey IN TXT " + rec + "\n"
		}
	}
	knot := testdaemons.StartKnot(t, zones)
	scratch := testdaemons.Dir(t)
	unbound := knot.UnboundConf(t, scratch)

	// Test-only copies of the generated confs that resolve through Knot.
	withResolver := func(conf string) string {
		c := filepath.Join(scratch, strings.ReplaceAll(strings.TrimPrefix(conf, l.Root), "/", "_"))
		writeFile(t, c, []byte(readFile(t, conf)+"\n# test only\nResolverConfiguration "+unbound+"\n"), 0o644)
		return c
	}
	rsaConf, edConf := withResolver(l.OpenDKIMConf), withResolver(l.Ed25519Conf)
	testkey, _ := testdaemons.LookBin("opendkim-testkey")

	// KeyTable mode compares every RSA private key with its record.
	out := run(t, testkey, "-x", rsaConf, "-vvv")
	for _, want := range []string{
		"key s2026._domainkey.example.test: OK",
		"key o1._domainkey.other.test: OK",
		"key m1._domainkey.mismatch.test: keys do not match",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("opendkim-testkey -x %s -vvv: no %q in:\n%s", rsaConf, want, out)
		}
	}

	// One key at a time, as the admin runs it. With -k the RSA key pair is
	// compared; without it (ed25519: opendkim-testkey cannot load ed25519
	// private keys, "expecting an rsa key") only the record is fetched and
	// parsed, so a mismatched ed25519 key still says "key OK".
	for _, tc := range []struct {
		conf, domain, selector, want string
		withKey                      bool
	}{
		{rsaConf, "example.test", "s2026", "key OK", true},
		{rsaConf, "other.test", "o1", "key OK", true},
		{rsaConf, "mismatch.test", "m1", "keys do not match", true},
		{edConf, "example.test", "s2026-ed", "key OK", false},
	} {
		args := []string{"-x", tc.conf, "-d", tc.domain, "-s", tc.selector, "-vvv"}
		if tc.withKey {
			args = append(args, "-k", l.KeyFile(tc.domain, tc.selector))
		}
		out, _ := exec.Command(testkey, args...).CombinedOutput()
		t.Logf("opendkim-testkey %s:\n%s", strings.Join(args, " "), out)
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("opendkim-testkey %s: want %q, got:\n%s", strings.Join(args, " "), tc.want, out)
		}
	}
}

// run runs a command and fails the test unless it exits 0.
func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestRealOpenDKIMListens(t *testing.T) {
	testdaemons.Require(t, "opendkim")
	l, _ := realTree(t, realAnswers())
	for _, tc := range []struct{ conf, pid string }{{l.OpenDKIMConf, l.PidFile}, {l.Ed25519Conf, l.Ed25519PidFile}} {
		conf := tc.conf
		// 8891/8892 may be taken by parallel tests: a copy on a free port.
		port := testdaemons.FreePort(t)
		data := readFile(t, conf)
		for _, p := range []int{RSAPort, Ed25519Port} {
			data = strings.ReplaceAll(data, "Socket\t\t\tinet:"+strconv.Itoa(p)+"@127.0.0.1", "Socket\t\t\tinet:"+strconv.Itoa(port)+"@127.0.0.1")
		}
		c := conf + ".test"
		writeFile(t, c, []byte(data), 0o644)
		testdaemons.StartOpenDKIM(t, c, fmt.Sprintf("127.0.0.1:%d", port))
		// The pid file lands where the service unit waits for it.
		deadline := time.Now().Add(3 * time.Second)
		for {
			if _, err := os.Stat(tc.pid); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Errorf("%s: no pid file: %v", conf, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func opendkimIDs(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("opendkim")
	if err != nil {
		t.Skipf("no opendkim user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

func mkdirOwned(t *testing.T, dir string, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// otherKey returns the zone TXT data of a key that is on no disk.
func otherKey(t *testing.T, algorithm string, bits int) string {
	t.Helper()
	key, err := dkimkeys.Generate(algorithm, bits, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testdaemons.DKIMTXT(t, key.Public())
}
