package testdaemons_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/internal/testdaemons"
)

func TestDir(t *testing.T) {
	var d string
	t.Run("make", func(t *testing.T) {
		d = testdaemons.Dir(t)
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("mode %o, want 700", got)
		}
		if !strings.HasPrefix(d, testdaemons.BaseDir+"/") {
			t.Errorf("%s not under %s", d, testdaemons.BaseDir)
		}
		if d2 := testdaemons.Dir(t); d2 == d {
			t.Errorf("Dir returned %s twice", d)
		}
	})
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Errorf("%s still there after the test: %v", d, err)
	}
}

func TestFreePort(t *testing.T) {
	a, b := testdaemons.FreePort(t), testdaemons.FreePort(t)
	if a <= 0 || b <= 0 {
		t.Fatalf("ports %d %d", a, b)
	}
}

func TestWrapZone(t *testing.T) {
	tests := []struct {
		name, origin, fragment string
		wantGlue               bool
	}{
		{"plain", "example.test", "@ A 127.0.0.1\n", true},
		{"fragment defines ns1", "example.test.", "ns1 A 127.0.0.2\n", false},
		{"fragment defines ns1 absolute", "example.test", "ns1.example.test. 60 IN A 127.0.0.2\n", false},
		{"fragment with own origin", "example.test", "$ORIGIN example.test.\n$TTL 60\nmail A 127.0.0.1", true},
		{"reverse", "127.in-addr.arpa", "1.0.0 PTR mail.example.test.\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := testdaemons.WrapZone(tt.origin, tt.fragment)
			o := dns.Fqdn(tt.origin)
			if !strings.HasPrefix(z, "$ORIGIN "+o+"\n$TTL 300\n") {
				t.Errorf("zone does not start with $ORIGIN/$TTL:\n%s", z)
			}
			glue := strings.Contains(z, "ns1."+o+" A 127.0.0.1\n")
			if glue != tt.wantGlue {
				t.Errorf("glue %v, want %v:\n%s", glue, tt.wantGlue, z)
			}
			zp := dns.NewZoneParser(strings.NewReader(z), "", "")
			n := 0
			for _, ok := zp.Next(); ok; _, ok = zp.Next() {
				n++
			}
			if err := zp.Err(); err != nil {
				t.Fatalf("wrapped zone does not parse: %v\n%s", err, z)
			}
			if n < 3 {
				t.Errorf("%d records", n)
			}
		})
	}
}

func TestCheckZone(t *testing.T) {
	testdaemons.Require(t, "named-checkzone")
	good := []struct{ origin, fragment string }{
		{"example.test", "@ MX 10 mail\nmail A 127.0.0.1\n@ TXT \"v=spf1 mx -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"\n"},
		{"example.test", "$ORIGIN example.test.\n$TTL 60\nns1 A 127.0.0.9\n"},
		{"127.in-addr.arpa", "1.0.0 PTR mail.example.test.\n"},
	}
	for _, g := range good {
		testdaemons.CheckZone(t, g.origin, g.fragment)
	}
	bad := []struct{ name, origin, fragment string }{
		{"bad A", "example.test", "mail A 999.1.1.1\n"},
		{"CNAME and other data", "example.test", "mail CNAME other\nmail A 127.0.0.1\n"},
		{"unknown type", "example.test", "mail BOGUS 1\n"},
		// Integrity problems (an MX or NS target without address, missing
		// glue) are only warnings for named-checkzone, not rejections.
		{"TXT string over 255 bytes", "example.test", "@ TXT \"" + strings.Repeat("a", 256) + "\"\n"},
		{"relative name outside $ORIGIN mistake", "example.test", "$ORIGIN other.test.\nmail A 127.0.0.1\n"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			out, err := testdaemons.CheckZoneErr(b.origin, b.fragment)
			if err == nil {
				t.Fatalf("accepted:\n%s", out)
			}
			if out == "" {
				t.Errorf("no output with error %v", err)
			}
		})
	}
}

func TestKnotServesZones(t *testing.T) {
	k := testdaemons.StartKnot(t, map[string]string{
		"example.test":     "s1._domainkey TXT \"v=DKIM1; k=rsa; p=AAAA\"\nmail A 127.0.0.1\n",
		"127.in-addr.arpa": "1.0.0 PTR mail.example.test.\n",
	})
	c := &dns.Client{Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("s1._domainkey.example.test.", dns.TypeTXT)
	r, _, err := c.Exchange(m, k.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 {
		t.Fatalf("answer %v", r.Answer)
	}
	txt, ok := r.Answer[0].(*dns.TXT)
	if !ok || strings.Join(txt.Txt, "") != "v=DKIM1; k=rsa; p=AAAA" {
		t.Fatalf("answer %v", r.Answer[0])
	}
	m.SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
	r, _, err = c.Exchange(m, k.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "mail.example.test." {
		t.Fatalf("PTR answer %v", r.Answer)
	}
	// TCP too.
	c.Net = "tcp"
	if _, _, err := c.Exchange(m, k.Addr); err != nil {
		t.Fatalf("tcp: %v", err)
	}
}

func TestUnboundConf(t *testing.T) {
	testdaemons.Require(t, "unbound-checkconf")
	k := &testdaemons.Knot{Addr: "127.0.0.1:5399"}
	d := testdaemons.Dir(t)
	p := k.UnboundConf(t, d)
	if filepath.Dir(p) != d {
		t.Errorf("path %s not in %s", p, d)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "forward-addr: 127.0.0.1@5399") {
		t.Errorf("no forward-addr:\n%s", b)
	}
	bin, err := testdaemons.LookBin("unbound-checkconf")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, p).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf: %v\n%s\n%s", err, out, b)
	}
}

// fatalTB records a Fatal instead of failing the real test, to test that
// helpers fail when they should.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// expectFatal runs fn with a fatalTB and returns the Fatal message, or ""
// when fn returned normally.
func expectFatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

func TestKnotRefusesBadZone(t *testing.T) {
	testdaemons.Require(t, "knotd")
	start := time.Now()
	msg := expectFatal(t, func(tb testing.TB) {
		testdaemons.StartKnot(tb, map[string]string{
			"good.test": "mail A 127.0.0.1\n",
			"bad.test":  "mail CNAME x\nmail A 127.0.0.1\n",
		})
	})
	if msg == "" {
		t.Fatal("StartKnot accepted a zone with CNAME and other data")
	}
	if !strings.Contains(msg, "bad.test") {
		t.Errorf("message does not name the zone:\n%s", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to notice", d)
	}
	t.Logf("%s", msg)
}

func (f *fatalTB) Skipf(format string, args ...any) {
	f.msg = "SKIP " + fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestRequire(t *testing.T) {
	for _, tt := range []struct {
		ci, wantPrefix string
	}{
		{"true", "testdaemons: CI=true"},
		{"", "SKIP testdaemons:"},
		{"false", "SKIP testdaemons:"},
	} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			msg := expectFatal(t, func(tb testing.TB) { testdaemons.Require(tb, "sh", "no-such-daemon-xyz") })
			if !strings.HasPrefix(msg, tt.wantPrefix) || !strings.Contains(msg, "no-such-daemon-xyz") {
				t.Errorf("message %q", msg)
			}
			msg = expectFatal(t, func(tb testing.TB) { testdaemons.Require(tb, "smtp-sink") })
			if strings.Contains(msg, "smtp-sink") && !strings.Contains(msg, "package postfix") {
				t.Errorf("message does not name the package: %q", msg)
			}
		})
	}
	// Found outside PATH too.
	t.Setenv("PATH", "/nonexistent")
	if _, err := testdaemons.LookBin("postconf"); err != nil {
		if _, err2 := os.Stat("/usr/sbin/postconf"); err2 == nil {
			t.Errorf("postconf in /usr/sbin not found without PATH: %v", err)
		}
	}
}
