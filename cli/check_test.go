package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/internal/testdaemons"
)

const checkAnswers = `server: {hostname: mail.example.test, ipv4: [203.0.113.10]}
domains: [{name: example.test, dkim: {selector: s2026}, dmarc: {policy: quarantine, rua: "mailto:dmarc@example.test"}}]
`

// reverseZone serves the PTR of the sending address.
const reverseZone = "$ORIGIN 113.0.203.in-addr.arpa.\n10 300 IN PTR mail.example.test.\n"

// generated writes a bundle for text and returns its directory and the
// zone fragment for example.test.
func generated(t *testing.T, text string) (answersFile, bundleDir, zone string) {
	t.Helper()
	dir := t.TempDir()
	answersFile = writeAnswers(t, dir, text)
	bundleDir = filepath.Join(dir, "bundle")
	if code, _, stderr := run(t, "generate", "--answers", answersFile, "--out", bundleDir); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	b, err := os.ReadFile(filepath.Join(bundleDir, "dns", "example.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	return answersFile, bundleDir, string(b)
}

func checkJSON(t *testing.T, args ...string) (int, dnscheck.Report, string) {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"check", "--json", "--query-timeout", "500ms"}, args...)...)
	var rep dnscheck.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("check --json: exit %d, not JSON: %v\n%s\n%s", code, err, stdout, stderr)
	}
	return code, rep, stderr
}

func byID(rep dnscheck.Report) map[string]dnscheck.Result {
	m := map[string]dnscheck.Result{}
	for _, r := range rep.Checks {
		m[r.ID] = r
	}
	return m
}

// TestCheckGeneratedBundleOnKnot publishes a generated bundle's zone in a
// real Knot and checks it with the answers and bundle: everything passes.
func TestCheckGeneratedBundleOnKnot(t *testing.T) {
	testdaemons.Require(t, "knotd")
	ans, bundleDir, zone := generated(t, checkAnswers)
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": zone, "113.0.203.in-addr.arpa": reverseZone})
	code, rep, stderr := checkJSON(t, "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", knot.Addr)
	if code != 0 || rep.Status != dnscheck.StatusPass {
		t.Fatalf("exit %d, status %s\n%+v\n%s", code, rep.Status, rep, stderr)
	}
	got := byID(rep)
	for _, id := range []string{"a", "ptr", "mx", "spf", "dkim", "dmarc", "ns"} {
		r, ok := got[id]
		if !ok || r.Status != dnscheck.StatusPass {
			t.Errorf("%s: %+v", id, r)
		}
		if ok && len(r.Observations) == 0 && id != "ns" {
			t.Errorf("%s: no observations", id)
		}
	}
	if r := got["dkim"]; r.Selector != "s2026" {
		t.Errorf("dkim selector %q", r.Selector)
	}

	// The human table says the same.
	code, out, _ := run(t, "check", "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", knot.Addr)
	if code != 0 || !strings.Contains(out, "example.test") || !strings.Contains(out, "✓ pass") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

// TestCheckWrongDKIMKey: the published key is not the bundle's: fail, with
// the record to publish.
func TestCheckWrongDKIMKey(t *testing.T) {
	testdaemons.Require(t, "knotd")
	ans, bundleDir, zone := generated(t, checkAnswers)
	_, _, other := generated(t, checkAnswers) // a second bundle: another key
	var dkimLine string
	for _, l := range strings.Split(other, "\n") {
		if strings.HasPrefix(l, "s2026._domainkey") {
			dkimLine = l
		}
	}
	var lines []string
	for _, l := range strings.Split(zone, "\n") {
		if strings.HasPrefix(l, "s2026._domainkey") {
			l = dkimLine
		}
		lines = append(lines, l)
	}
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": strings.Join(lines, "\n"), "113.0.203.in-addr.arpa": reverseZone})
	code, rep, _ := checkJSON(t, "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", knot.Addr)
	d := byID(rep)["dkim"]
	if code != 1 || d.Status != dnscheck.StatusFail || !strings.Contains(d.Fix, "s2026._domainkey.example.test") {
		t.Errorf("exit %d, dkim %+v", code, d)
	}
	if byID(rep)["spf"].Status != dnscheck.StatusPass {
		t.Errorf("spf should still pass: %+v", byID(rep)["spf"])
	}
}

// TestCheckDomainAudit is seed 001: a domain moved to a new DNS host with
// only its MX copied. check --domain finds SPF, DKIM and DMARC missing.
func TestCheckDomainAudit(t *testing.T) {
	testdaemons.Require(t, "knotd")
	zone := "$ORIGIN example.test.\n@ 300 IN MX 10 mail.example.test.\nmail 300 IN A 203.0.113.10\n"
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": zone})
	code, rep, _ := checkJSON(t, "--domain", "example.test", "--authoritative", knot.Addr, "--resolver", knot.Addr)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	got := byID(rep)
	for _, id := range []string{"spf", "dkim", "dmarc"} {
		if got[id].Status != dnscheck.StatusFail || got[id].Fix == "" {
			t.Errorf("%s: %+v", id, got[id])
		}
	}
	if got["mx"].Status != dnscheck.StatusPass {
		t.Errorf("mx: %+v", got["mx"])
	}
}

// TestCheckWaitTurnsGreen: unbound caches the old SPF record in front of
// Knot; the zone is fixed; check --wait reports pending, then passes when
// the cache expires.
func TestCheckWaitTurnsGreen(t *testing.T) {
	testdaemons.Require(t, "knotd", "unbound")
	ans, bundleDir, zone := generated(t, checkAnswers)
	oldSPF := strings.Replace(zone, "v=spf1 ip4:203.0.113.10 ~all", "v=spf1 ip4:192.0.2.99 ~all", 1)
	if oldSPF == zone {
		t.Fatalf("no SPF record to replace in\n%s", zone)
	}
	oldSPF = strings.Replace(oldSPF, "$TTL 3600", "$TTL 3", 1)
	oldSPF = strings.ReplaceAll(oldSPF, "\t3600\t", "\t3\t")
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": oldSPF, "113.0.203.in-addr.arpa": reverseZone})
	ub := testdaemons.StartUnbound(t, knot.Addr, []string{"example.test", "113.0.203.in-addr.arpa"})

	// Warm the cache with the old record: authoritative and resolver agree on the wrong value.
	code, rep, _ := checkJSON(t, "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", ub.Addr)
	if code != 1 || byID(rep)["spf"].Status != dnscheck.StatusFail {
		t.Fatalf("old zone: exit %d spf %+v", code, byID(rep)["spf"])
	}
	fixed := strings.Replace(zone, "$TTL 3600", "$TTL 3", 1)
	knot.UpdateZone(t, "example.test", strings.ReplaceAll(fixed, "\t3600\t", "\t3\t"))

	// Right away: the authoritative server is right, unbound still has the old answer.
	code, rep, _ = checkJSON(t, "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", ub.Addr)
	spf := byID(rep)["spf"]
	if code != ExitPending || spf.Status != dnscheck.StatusPending || spf.ETASeconds == nil {
		t.Fatalf("after the fix: exit %d, spf %+v", code, spf)
	}
	start := time.Now()
	code, rep, stderr := checkJSON(t, "--answers", ans, "--bundle", bundleDir, "--authoritative", knot.Addr, "--resolver", ub.Addr, "--wait", "--timeout", "60s")
	if code != 0 || byID(rep)["spf"].Status != dnscheck.StatusPass {
		t.Fatalf("--wait: exit %d, spf %+v\n%s", code, byID(rep)["spf"], stderr)
	}
	if !strings.Contains(stderr, "next check in") {
		t.Errorf("--wait printed no progress: %q", stderr)
	}
	t.Logf("green after %s", time.Since(start).Round(time.Millisecond))
}

func TestCheckUsage(t *testing.T) {
	for _, args := range [][]string{
		{"check"},
		{"check", "--answers", "a.yaml", "--domain", "example.com"},
		{"check", "--domain", "example.com", "--resolver", "not-an-ip"},
		{"check", "--domain", "example.com", "--ip", "300.1.1.1"},
		{"check", "--domain", "example.com", "--dkim-key", "/nonexistent"},
	} {
		if code, _, stderr := run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, stderr)
		}
	}
}
