package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/migrate"
)

const migrateAnswers = `server: {hostname: mail.example.test, ipv4: [203.0.113.10]}
domains: [{name: example.test, dkim: {selector: s2026}, dmarc: {policy: none, rua: "mailto:dmarc@example.test"}}]
relay: {mode: office365-connector}
`

// fakePostconf answers postconf -n with relayhost.
func fakePostconf(t *testing.T, relayhost string) {
	t.Helper()
	old := migrateDeps.postconf
	migrateDeps.postconf = func(string) migrate.Postconf {
		return func(_ context.Context, args ...string) ([]byte, error) {
			out := "myhostname = mail.example.test\n"
			if relayhost != "" {
				out += "relayhost = " + relayhost + "\n"
			}
			return []byte(out), nil
		}
	}
	t.Cleanup(func() { migrateDeps.postconf = old })
}

func TestMigrateOffice365Command(t *testing.T) {
	testdaemons.Require(t, "knotd")
	ans := writeAnswers(t, t.TempDir(), migrateAnswers)
	knot := testdaemons.StartKnot(t, map[string]string{"example.test": `
@ 300 IN TXT "MS=ms11112222"
@ 300 IN TXT "v=spf1 ip4:203.0.113.10 ~all"
@ 300 IN MX 10 mail.example.test.
mail 300 IN A 203.0.113.10
`})
	fakePostconf(t, "")
	args := []string{"migrate", "office365", "--answers", ans, "--authoritative", knot.Addr, "--resolver", knot.Addr, "--query-timeout", "500ms"}
	code, out, errs := runSub(t, newMigrateCmd, "", args...)
	if code != ExitPending {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	for _, w := range []string{"✓ 1  Verify the domain", "✓ 2  Lower the MX and SPF TTLs", "→ 3  Add include:spf.protection.outlook.com",
		`example.test. TXT "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com ~all"`, "· 4  Create the inbound connector", "2 of 9"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errs, "next is step 3") {
		t.Errorf("stderr %q", errs)
	}

	// JSON, with relayhost switched (the SPF include is still missing).
	fakePostconf(t, "[example-test.mail.protection.outlook.com]:25")
	code, out, errs = runSub(t, newMigrateCmd, "", append(args, "--json")...)
	if code != ExitPending {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Steps []migrate.Step `json:"steps"`
		State migrate.State  `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Steps) != 9 || doc.Steps[2].Status != migrate.StatusNext || doc.State.Domains[0].MSVerify != "MS=ms11112222" ||
		doc.Steps[4].Status != migrate.StatusDone || !doc.Steps[3].Inferred || doc.State.Relayhost == "" {
		t.Errorf("%+v", doc)
	}
}

func TestMigrateUsage(t *testing.T) {
	dir := t.TempDir()
	direct := writeAnswers(t, dir, "server: {hostname: mail.example.test, ipv4: [203.0.113.10]}\ndomains: [{name: example.test}]\n")
	code, _, errs := runSub(t, newMigrateCmd, "", "migrate", "office365", "--answers", direct)
	if code != ExitUsage || !strings.Contains(errs, "relay.mode is direct") || !strings.Contains(errs, "office365-connector") {
		t.Errorf("direct answers: exit %d %s", code, errs)
	}
	if code, _, _ := runSub(t, newMigrateCmd, "", "migrate", "office365"); code != ExitUsage {
		t.Errorf("no --answers: exit %d", code)
	}
	if code, _, _ := runSub(t, newMigrateCmd, "", "migrate"); code != ExitUsage {
		t.Errorf("no target: exit %d", code)
	}
	o365 := writeAnswers(t, t.TempDir(), migrateAnswers)
	if code, _, errs := runSub(t, newMigrateCmd, "", "migrate", "office365", "--answers", o365, "--bundle", dir); code != ExitUsage || !strings.Contains(errs, "connector.ps1") {
		t.Errorf("bundle without the script: exit %d %s", code, errs)
	}
}
