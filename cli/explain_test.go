package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/internal/testdaemons"
)

// runSub runs one command under a root made like newRootCmd's, so these
// tests do not depend on its registration in cli.go.
func runSub(t *testing.T, mk func(Streams) *cobra.Command, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	root := &cobra.Command{Use: "sendready", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(ExitUsage, err) })
	root.SetOut(&out)
	root.SetErr(&errb)
	root.AddCommand(mk(s))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK, out.String(), errb.String()
	}
	errb.WriteString(err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String(), errb.String()
	}
	return ExitUsage, out.String(), errb.String()
}

func sample(name string) string { return filepath.Join("..", "explain", "testdata", name) }

func TestExplainCommand(t *testing.T) {
	code, out, errs := runSub(t, newExplainCmd, "", "explain", sample("ar-dkim-bad-signature.txt"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"✗ The DKIM signature of example.pl (selector mail) did not verify", "[dkim-bad-signature]", "fix:", "verify: sendready check --domain example.pl --selector mail"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}

	// Standard input, JSON.
	code, out, errs = runSub(t, newExplainCmd, "Received-SPF: Pass (protection.outlook.com: domain of example.com designates\n 1.1.1.1 as permitted sender) client-ip=1.1.1.1; helo=mail.example.com\n", "explain", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Findings []struct{ Code, Domain, IP, Fix string } `json:"findings"`
		Facts    struct {
			HELO string `json:"helo"`
		} `json:"facts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Findings) != 1 || doc.Findings[0].Code != "spf-pass" || doc.Findings[0].IP != "1.1.1.1" || doc.Facts.HELO != "mail.example.com" {
		t.Errorf("%+v", doc)
	}
}

func TestExplainExitCodes(t *testing.T) {
	if code, out, _ := runSub(t, newExplainCmd, "", "explain", sample("not-a-bounce.txt")); code != ExitFailed || !strings.Contains(out, "Nothing recognised") {
		t.Errorf("unrecognised input: exit %d\n%s", code, out)
	}
	if code, _, _ := runSub(t, newExplainCmd, "", "explain", "/nonexistent/bounce.eml"); code != ExitUsage {
		t.Errorf("missing file: exit %d", code)
	}
	if code, _, _ := runSub(t, newExplainCmd, "", "explain", "a", "b"); code != ExitUsage {
		t.Errorf("two files: exit %d", code)
	}
	if code, _, _ := runSub(t, newExplainCmd, "", "explain", "--resolver", "127.0.0.1", sample("ar-dkim-bad-signature.txt")); code != ExitUsage {
		t.Errorf("--resolver without --check: exit %d", code)
	}
	// --check without any domain in the input.
	if code, _, errs := runSub(t, newExplainCmd, "", "explain", "--check", sample("dkim-result-bad-signature.txt")); code != ExitUsage || !strings.Contains(errs, "no sender domain") {
		t.Errorf("--check without a domain: exit %d %s", code, errs)
	}
}

// TestExplainCheckOnKnot explains a Gmail 5.7.26 DSN and runs the live
// checks of the domain, selector and IP it names against a Knot serving a
// zone without DKIM: the dkim check fails.
func TestExplainCheckOnKnot(t *testing.T) {
	testdaemons.Require(t, "knotd")
	knot := testdaemons.StartKnot(t, map[string]string{"example.com": `
@ 300 IN MX 10 mail.example.com.
@ 300 IN TXT "v=spf1 ip4:203.0.113.10 ~all"
_dmarc 300 IN TXT "v=DMARC1; p=none"
mail 300 IN A 203.0.113.10
`})
	code, out, errs := runSub(t, newExplainCmd, "", "explain", "--json", "--check", "--query-timeout", "500ms",
		"--authoritative", knot.Addr, "--resolver", knot.Addr, sample("dsn-postfix-gmail.eml"))
	if code != ExitFailed {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var doc struct {
		Findings []struct{ Code string } `json:"findings"`
		Check    *dnscheck.Report        `json:"check"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Findings) == 0 || doc.Findings[0].Code != "unauthenticated" || doc.Check == nil {
		t.Fatalf("%+v", doc)
	}
	got := map[string]dnscheck.Result{}
	for _, r := range doc.Check.Checks {
		got[r.ID] = r
	}
	if r := got["dkim"]; r.Status != dnscheck.StatusFail || r.Selector != "202406" {
		t.Errorf("dkim: %+v", r)
	}
	if r := got["spf"]; r.Status != dnscheck.StatusPass {
		t.Errorf("spf: %+v", r)
	}

	// The text form prints the findings, then the check table.
	_, text, _ := runSub(t, newExplainCmd, "", "explain", "--check", "--query-timeout", "500ms",
		"--authoritative", knot.Addr, "--resolver", knot.Addr, sample("dsn-postfix-gmail.eml"))
	for _, w := range []string{"[unauthenticated]", "Live checks:", "dkim 202406", "failed"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}
}
