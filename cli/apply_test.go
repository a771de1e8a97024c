package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/layout"
)

func init() {
	applyDeps.hostname = func() (string, error) { return "mail.example.com", nil }
	applyDeps.now = func() time.Time { return time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC) }
}

// runApplyCLI runs sendready in-process like Run, with apply and rollback
// registered on the root command if cli.go does not register them yet.
func runApplyCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb}
	root := newRootCmd("test", s)
	if c, _, err := root.Find([]string{"apply"}); err != nil || c.Name() != "apply" {
		root.AddCommand(newApplyCmd(s), newRollbackCmd(s))
	}
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK, out.String(), errb.String()
	}
	errb.WriteString("sendready: " + err.Error() + "\n")
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, out.String(), errb.String()
	}
	return ExitUsage, out.String(), errb.String()
}

func TestApplyCommand(t *testing.T) {
	testdaemons.Require(t, "postfix", "postconf", "postmap", "opendkim")
	root := testdaemons.Dir(t)
	a, err := answers.Parse([]byte(direct))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(generate.Now())
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(root, "bundle")
	if _, err := generate.Run(generate.Options{Answers: a, Out: b, Root: root, Version: "test", Rand: rand.Reader}); err != nil {
		t.Fatal(err)
	}
	l := layout.For(a.Server.Distro, root)
	testdaemons.NewPostfixAt(t, filepath.Join(root, "pf"), l.PostfixDir)
	mainCF, _ := os.ReadFile(l.MainCF)

	// Usage errors: 2.
	for _, args := range [][]string{
		{"apply"},
		{"apply", "--bundle", b, "--root", "relative"},
		{"apply", "--bundle", b, "--bogus"},
		{"rollback", "--root", root, "not-a-timestamp"},
		{"rollback", "a", "b"},
	} {
		if code, _, stderr := runApplyCLI(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr)
		}
	}
	// Refused: 1, nothing changed.
	if code, _, stderr := runApplyCLI(t, "", "apply", "--bundle", b, "--root", filepath.Join(root, "x"), "--yes"); code != ExitFailed || !strings.Contains(stderr, "was generated for --root") {
		t.Errorf("root mismatch: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runApplyCLI(t, "", "rollback", "--root", root, "--yes"); code != ExitFailed || !strings.Contains(stderr, "no backups") {
		t.Errorf("rollback without backups: exit %d\n%s", code, stderr)
	}
	// No --yes and "n": refused.
	if code, stdout, stderr := runApplyCLI(t, "n\n", "apply", "--bundle", b, "--root", root); code != ExitFailed || !strings.Contains(stdout, "Apply these changes? [y/N]") {
		t.Errorf("declined: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Dry run: 0, a diff, nothing changed.
	code, stdout, stderr := runApplyCLI(t, "", "apply", "--bundle", b, "--root", root, "--dry-run")
	if code != ExitOK || !strings.Contains(stdout, "--- a/etc/postfix/main.cf") || !strings.Contains(stdout, "+myhostname = mail.example.com") {
		t.Errorf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if now, _ := os.ReadFile(l.MainCF); !bytes.Equal(now, mainCF) {
		t.Error("a refused or dry run changed main.cf")
	}
	// Apply, answering y: 0; again: 0 and "no changes".
	if code, stdout, stderr := runApplyCLI(t, "y\n", "apply", "--bundle", b, "--root", root); code != ExitOK || !strings.Contains(stdout, "done:") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runApplyCLI(t, "", "apply", "--bundle", b, "--root", root, "--yes"); code != ExitOK || !strings.Contains(stdout, "no changes") {
		t.Errorf("second apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A failing check: 1, everything put back.
	applied, _ := os.ReadFile(l.MainCF)
	applyDeps.run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if name == "postfix" {
			return nil, errors.New("injected: postfix check failed")
		}
		return nil, nil
	}
	defer func() { applyDeps.run = nil }()
	if code, _, stderr := runApplyCLI(t, "", "rollback", "--root", root, "--yes"); code != ExitFailed || !strings.Contains(stderr, "injected") {
		t.Errorf("rollback with a failing check: exit %d\n%s", code, stderr)
	}
	if now, _ := os.ReadFile(l.MainCF); !bytes.Equal(now, applied) {
		t.Error("a failed rollback did not put main.cf back")
	}
	applyDeps.run = nil
	// Rollback: 0, main.cf as before.
	if code, stdout, stderr := runApplyCLI(t, "", "rollback", "--root", root, "--yes", "20261122T140000Z"); code != ExitOK || !strings.Contains(stdout, "done:") {
		t.Errorf("rollback: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if now, _ := os.ReadFile(l.MainCF); !bytes.Equal(now, mainCF) {
		t.Error("rollback did not restore main.cf")
	}
	if code, stdout, _ := runApplyCLI(t, "", "rollback", "--root", root, "--yes"); code != ExitOK || !strings.Contains(stdout, "no changes") {
		t.Errorf("second rollback: exit %d\n%s", code, stdout)
	}
}
