package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/publish"
)

// runDNSCmd runs sendready with args and stdin in, with the dns command
// added when the root does not have it yet.
func runDNSCmd(t *testing.T, in string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := Streams{In: strings.NewReader(in), Out: &out, Err: &errb}
	root := newRootCmd("test", s)
	has := false
	for _, c := range root.Commands() {
		has = has || c.Name() == "dns"
	}
	if !has {
		root.AddCommand(newDNSCmd(s))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK, out.String(), errb.String()
	}
	fmt.Fprintln(&errb, "sendready:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String(), errb.String()
	}
	return ExitUsage, out.String(), errb.String()
}

// dnsSetup starts a Knot taking updates signed with a new key, and writes
// answers that publish through it and their bundle.
func dnsSetup(t *testing.T, fragment string) (knot *testdaemons.Knot, key testdaemons.TSIGKey, keyFile, ans, bundleDir string) {
	t.Helper()
	testdaemons.Require(t, "knotd", "knotc")
	key = testdaemons.NewTSIGKey(t, "sendready-cli")
	knot = testdaemons.StartKnotWith(t, map[string]string{"example.test": fragment, "113.0.203.in-addr.arpa": reverseZone}, testdaemons.KnotOptions{TSIG: key})
	dir := t.TempDir()
	keyFile = key.BINDFile(t, dir)
	text := checkAnswers + fmt.Sprintf("dns: {provider: rfc2136, ttl: 300, rfc2136: {server: %q, tsig_key_file: %s}}\n", knot.Addr, filepath.Base(keyFile))
	ans = writeAnswers(t, dir, text)
	bundleDir = filepath.Join(dir, "bundle")
	if code, _, stderr := run(t, "generate", "--answers", ans, "--out", bundleDir); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	return knot, key, keyFile, ans, bundleDir
}

// TestDNSPlanPushOnKnot: plan says 4 (changes pending), a push that is
// not confirmed changes nothing, push --yes applies and verifies, the next
// plan has nothing to do and check is green; the secret is never shown.
func TestDNSPlanPushOnKnot(t *testing.T) {
	knot, key, _, ans, bundleDir := dnsSetup(t, "@ 300 IN TXT \"MS=ms12345\"\n@ 300 IN TXT \"v=spf1 mx -all\"\n")
	var outputs []string
	do := func(in string, want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runDNSCmd(t, in, args...)
		outputs = append(outputs, stdout, stderr)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s\n%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	base := []string{"--answers", ans, "--bundle", bundleDir}

	out := do("", ExitPlanPending, append([]string{"dns", "plan"}, base...)...)
	for _, w := range []string{
		"Zone example.test (rfc2136 at " + knot.Addr,
		"create     MX     example.test.",
		"update     TXT    example.test.",
		`new: "v=spf1 mx ip4:203.0.113.10 -all" (TTL 300)`,
		`unchanged  TXT    example.test.`,
		"never touched",
		"create     A      mail.example.test.",
		"run sendready dns push",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("plan lacks %q:\n%s", w, out)
		}
	}
	serial := knot.Serial(t, "example.test")

	do("n\n", ExitFailed, append([]string{"dns", "push"}, base...)...)
	if s := knot.Serial(t, "example.test"); s != serial {
		t.Fatalf("a push that was not confirmed changed the zone (serial %d → %d)", serial, s)
	}

	out = do("", ExitOK, append([]string{"dns", "push", "--yes"}, base...)...)
	for _, w := range []string{"holds exactly what the plan says", "Next: sendready check --wait --answers " + ans} {
		if !strings.Contains(out, w) {
			t.Errorf("push lacks %q:\n%s", w, out)
		}
	}
	out = do("", ExitOK, append([]string{"dns", "plan"}, base...)...)
	if !strings.Contains(out, "Nothing to do") || strings.Contains(out, "create ") {
		t.Errorf("plan after push:\n%s", out)
	}
	out = do("y\n", ExitOK, append([]string{"dns", "push"}, base...)...)
	if !strings.Contains(out, "Nothing to do") {
		t.Errorf("push after push:\n%s", out)
	}

	code, stdout, stderr := run(t, "check", "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", knot.Addr, "--query-timeout", "1s")
	if code != 0 {
		t.Errorf("check after push: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, o := range outputs {
		if strings.Contains(o, key.Secret) {
			t.Fatalf("the TSIG secret is in the output:\n%s", o)
		}
	}
}

// TestDNSPushConflictsAndWrongKey: a foreign MX is a conflict (exit 1,
// nothing pushed) until --force; a wrong key (flags override the answers)
// fails with the reason and leaves the zone as it was.
func TestDNSPushConflictsAndWrongKey(t *testing.T) {
	knot, key, _, ans, bundleDir := dnsSetup(t, "@ 300 IN MX 20 backup.example.net.\n")
	base := []string{"--answers", ans, "--bundle", bundleDir}

	code, out, _ := runDNSCmd(t, "", append([]string{"dns", "plan"}, base...)...)
	if code != ExitFailed || !strings.Contains(out, "conflict   MX     example.test.") || !strings.Contains(out, "--force") {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	serial := knot.Serial(t, "example.test")
	if code, _, stderr := runDNSCmd(t, "", append([]string{"dns", "push", "--yes"}, base...)...); code != ExitFailed || !strings.Contains(stderr, "nothing was pushed") {
		t.Fatalf("push with a conflict: exit %d\n%s", code, stderr)
	}

	wrong := testdaemons.NewTSIGKey(t, "sendready-cli")
	wrongFile := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrongFile, []byte("hmac-sha256:sendready-cli:"+wrong.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runDNSCmd(t, "", append([]string{"dns", "push", "--yes", "--force", "--tsig-file", wrongFile, "--server", knot.Addr}, base...)...)
	if code != ExitFailed || !strings.Contains(stderr, "BADSIG") || !strings.Contains(stderr, "nothing was changed") {
		t.Fatalf("wrong key: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, s := range []string{wrong.Secret, key.Secret} {
		if strings.Contains(out+stderr, s) {
			t.Fatal("a TSIG secret is in the output")
		}
	}
	if s := knot.Serial(t, "example.test"); s != serial {
		t.Fatalf("the zone changed (serial %d → %d)", serial, s)
	}

	code, out, stderr = runDNSCmd(t, "", append([]string{"dns", "push", "--yes", "--force"}, base...)...)
	if code != ExitOK || !strings.Contains(out, "delete     MX     example.test.") {
		t.Fatalf("push --force: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestDNSUsage(t *testing.T) {
	dir := t.TempDir()
	manual := writeAnswers(t, dir, checkAnswers)
	bundleDir := filepath.Join(dir, "bundle")
	if code, _, stderr := run(t, "generate", "--answers", manual, "--out", bundleDir); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	const token = "cf-secret-token-0123456789"
	t.Setenv(publish.CloudflareTokenEnv, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dns"}, "plan or push"},
		{[]string{"dns", "plan", "--bundle", bundleDir}, "--answers FILE is required"},
		{[]string{"dns", "plan", "--answers", manual}, "--bundle DIR is required"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", dir}, "run sendready generate"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir}, "dns.provider is \"manual\""},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "route53"}, "use cloudflare or rfc2136"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "rfc2136"}, "no server"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "rfc2136", "--server", "127.0.0.1:53"}, "no TSIG key"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "rfc2136", "--server", "ns.example.test", "--tsig-file", "x"}, "--server"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "rfc2136", "--server", "127.0.0.1", "--tsig-file", filepath.Join(dir, "none")}, "TSIG key file"},
		{[]string{"dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "cloudflare"}, "CLOUDFLARE_API_TOKEN"},
		{[]string{"dns", "plan", "--bogus"}, "unknown flag"},
	} {
		code, _, stderr := runDNSCmd(t, "", c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", c.args, code, c.want, stderr)
		}
	}

	// A token from the environment is never shown, even when the API
	// cannot be reached.
	t.Setenv(publish.CloudflareTokenEnv, token)
	code, out, stderr := runDNSCmd(t, "", "dns", "plan", "--answers", manual, "--bundle", bundleDir, "--provider", "cloudflare", "--api-url", "http://127.0.0.1:1/client/v4")
	if code != ExitFailed {
		t.Errorf("unreachable API: exit %d\n%s", code, stderr)
	}
	if strings.Contains(out+stderr, token) {
		t.Errorf("the token is in the output:\n%s\n%s", out, stderr)
	}
}
