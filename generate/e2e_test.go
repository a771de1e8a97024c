package generate

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/layout"
	"github.com/sendready/sendready/records"
)

var fixedNow = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

func loadTopology(t *testing.T, path string) *answers.Answers {
	t.Helper()
	a, err := answers.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(fixedNow)
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	return a
}

func topologies(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/topologies/*.yaml")
	if err != nil || len(files) < 10 {
		t.Fatalf("topologies: %v %v", files, err)
	}
	return files
}

// TestBundleOnRealDaemons generates the bundle of every topology with --root
// in a scratch tree, then proves each file is accepted by the daemon that
// reads it: the generated install.sh merges the Postfix settings into a
// config dir seeded like a fresh Debian install and passes postfix check
// (twice: it is idempotent); every zone passes named-checkzone and loads in
// Knot; OpenDKIM accepts its configuration and opendkim-testkey finds the
// published keys matching; and a message signed with each generated key
// verifies against the record served by Knot.
func TestBundleOnRealDaemons(t *testing.T) {
	testdaemons.Require(t, "postfix", "postconf", "postmap", "opendkim", "opendkim-testkey", "knotd", "named-checkzone")
	for _, path := range topologies(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a := loadTopology(t, path)
			root := testdaemons.Dir(t)
			out := filepath.Join(root, "bundle")
			l := layout.For(a.Server.Distro, root)
			res, err := Run(Options{Answers: a, Out: out, Root: root, Version: "test", Rand: rand.Reader, SASLPassword: "test-password"})
			if err != nil {
				t.Fatal(err)
			}

			zones := map[string]string{}
			for _, f := range res.Files {
				if strings.HasPrefix(f.Path, "dns/") && strings.HasSuffix(f.Path, ".zone") {
					origin := strings.TrimSuffix(strings.TrimPrefix(f.Path, "dns/"), ".zone")
					testdaemons.CheckZone(t, origin, string(f.Data))
					zones[origin] = string(f.Data)
				}
			}
			knot := testdaemons.StartKnot(t, zones)

			if a.Server.Distro == answers.DistroDebian {
				pf := testdaemons.NewPostfixAt(t, filepath.Join(root, "pf"), l.PostfixDir)
				runInstall(t, out)
				first := pf.Postconf(t, "-n")
				assertSettings(t, first, filepath.Join(out, "postfix/main.cf.snippet"))
				assertServices(t, pf, filepath.Join(out, "postfix/master.cf.snippet"))
				runInstall(t, out)
				if again := pf.Postconf(t, "-n"); again != first {
					t.Errorf("a second install.sh changed main.cf:\n%s\n---\n%s", first, again)
				}
				assertKeyOwnership(t, res, 0o600)
			} else {
				// No RHEL Postfix here: put the files in place by hand.
				for _, f := range res.Files {
					if f.Target == "" {
						continue
					}
					if err := os.MkdirAll(filepath.Dir(f.Target), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(f.Target, f.Data, f.Mode); err != nil {
						t.Fatal(err)
					}
				}
			}

			confs := []string{l.OpenDKIMConf}
			if a.UsesEd25519() {
				confs = append(confs, l.Ed25519Conf)
			}
			unbound := knot.UnboundConf(t, root)
			for _, conf := range confs {
				if out, err := exec.Command("opendkim", "-n", "-x", conf).CombinedOutput(); err != nil {
					t.Errorf("opendkim -n -x %s: %v\n%s", conf, err, out)
				}
			}
			for _, s := range a.Signers() {
				if s.External {
					assertExternalKey(t, a, s, knot.Addr)
					continue
				}
				conf := withResolver(t, l.OpenDKIMConf, unbound)
				args := []string{"-x", conf, "-d", s.Domain, "-s", s.Selector, "-vvv"}
				if s.Algorithm == answers.AlgRSA {
					// -k compares the private key with DNS (RSA only: this
					// opendkim-testkey cannot load ed25519 keys).
					args = append(args, "-k", l.KeyFile(s.Domain, s.Selector))
				}
				out, err := exec.Command("opendkim-testkey", args...).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "key OK") {
					t.Errorf("opendkim-testkey %s: %v\n%s", s.KeyName(), err, out)
				}
				signAndVerify(t, res, s, knot.Addr)
			}
		})
	}
}

func runInstall(t *testing.T, bundleDir string) {
	t.Helper()
	cmd := exec.Command("sh", filepath.Join(bundleDir, "install.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "install.sh: done") {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
}

// assertSettings checks that postconf -n shows every key = value of the snippet.
func assertSettings(t *testing.T, postconfN, snippet string) {
	t.Helper()
	have := map[string]string{}
	for _, line := range strings.Split(postconfN, "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok {
			have[k] = v
		}
	}
	data, err := os.ReadFile(snippet)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Errorf("snippet line is not key = value: %q", line)
			continue
		}
		n++
		if have[k] != v {
			t.Errorf("postconf -n: %s = %q, want %q", k, have[k], v)
		}
	}
	if n < 5 {
		t.Errorf("only %d settings in %s", n, snippet)
	}
}

// assertServices checks that every service of the master.cf snippet is in
// the instance's master.cf.
func assertServices(t *testing.T, pf *testdaemons.Postfix, snippet string) {
	t.Helper()
	data, err := os.ReadFile(snippet)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || strings.HasPrefix(line, "#") || strings.HasPrefix(line, " ") {
			continue
		}
		got := pf.Postconf(t, "-M", f[0]+"/"+f[1])
		if !strings.HasPrefix(strings.Join(strings.Fields(got), " "), strings.Join(f, " ")) {
			t.Errorf("master.cf %s/%s = %q, want it to start with %q", f[0], f[1], got, strings.Join(f, " "))
		}
	}
}

func assertKeyOwnership(t *testing.T, res Result, mode os.FileMode) {
	t.Helper()
	for _, f := range res.Files {
		if !strings.HasSuffix(f.Path, ".private") {
			continue
		}
		st, err := os.Stat(f.Target)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v", f.Target, st.Mode())
		}
		got, _ := os.ReadFile(f.Target)
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s differs from the bundle's key", f.Target)
		}
	}
}

// withResolver returns a copy of conf that resolves through the loopback Knot.
func withResolver(t *testing.T, conf, unbound string) string {
	t.Helper()
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	cp := conf + ".test"
	data = append(data, []byte("\nResolverConfiguration "+unbound+"\n")...)
	if err := os.WriteFile(cp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return cp
}

// signAndVerify signs a message with the signer's generated key (go-msgauth)
// and verifies it against the DKIM record Knot serves.
func signAndVerify(t *testing.T, res Result, s answers.Signer, server string) {
	t.Helper()
	var key crypto.Signer
	for _, f := range res.Files {
		if f.Path == "opendkim/keys/"+s.Domain+"/"+s.Selector+".private" {
			k, err := dkimkeys.ParsePEM(f.Data)
			if err != nil {
				t.Fatal(err)
			}
			key = k
		}
	}
	if key == nil {
		t.Fatalf("no key file for %s", s.KeyName())
	}
	msg := "From: Admin <admin@" + s.Domain + ">\r\nTo: someone@example.org\r\nSubject: sendready test\r\nDate: Sun, 22 Nov 2026 14:00:00 +0000\r\nMessage-ID: <1@" + s.Domain + ">\r\n\r\nHello.\r\n"
	var signed bytes.Buffer
	err := dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{
		Domain: s.Domain, Selector: s.Selector, Signer: key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationSimple,
	})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(signed.Bytes()), &dkim.VerifyOptions{LookupTXT: testdaemons.LookupTXT(server)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != s.Domain {
		t.Errorf("%s: verification %+v", s.KeyName(), vs[0])
	}
	// A tampered body must fail: the check above can fail.
	tampered := bytes.Replace(signed.Bytes(), []byte("Hello."), []byte("Hullo."), 1)
	vs, err = dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: testdaemons.LookupTXT(server)})
	if err != nil || len(vs) != 1 || vs[0].Err == nil {
		t.Errorf("%s: tampered message verified: %v %+v", s.KeyName(), err, vs)
	}
}

// assertExternalKey checks that the record Knot serves for an external
// signer holds exactly the public key from the answers.
func assertExternalKey(t *testing.T, a *answers.Answers, s answers.Signer, server string) {
	t.Helper()
	txts, err := testdaemons.LookupTXT(server)(s.KeyName())
	if err != nil || len(txts) != 1 {
		t.Fatalf("%s: %v %v", s.KeyName(), txts, err)
	}
	rec, err := records.ParseDKIM(txts[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := rec.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range a.Domains {
		if d.Name == s.Domain {
			want, err := dkimkeys.ParsePublic(d.DKIM.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if !records.KeysEqual(got, want) {
				t.Errorf("%s publishes another key than the answers give", s.KeyName())
			}
		}
	}
}
