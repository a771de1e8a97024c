package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/internal/testdaemons"
)

// tmuxSession runs the real binary in a detached tmux session at 80×24.
type tmuxSession struct {
	t    *testing.T
	name string
	// record, when set (SENDREADY_RECORD=FILE), collects the screen at every
	// step: docs/wizard-session.md is made this way.
	record *strings.Builder
}

func (s tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", s.name}, keys...)...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
	// huh moves the focus in a command after Enter: keys sent faster than a
	// person types would land in the previous field.
	time.Sleep(300 * time.Millisecond)
}

func (s tmuxSession) screen() string {
	out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).Output()
	return string(out)
}

// waitFor polls the screen until it shows text.
func (s tmuxSession) waitFor(text string, timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		if strings.Contains(scr, text) {
			if s.record != nil {
				s.record.WriteString("```\n" + strings.TrimRight(scr, "\n ") + "\n```\n\n")
			}
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", text, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWizardInTmux types through the direct topology in a real terminal,
// checks the bundle was written, publishes its zone in a real Knot, and
// waits for the live dashboard to turn green and the wizard to exit 0.
func TestWizardInTmux(t *testing.T) {
	testdaemons.Require(t, "tmux", "knotd")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	reverse := "$ORIGIN 113.0.203.in-addr.arpa.\n10 300 IN PTR mail.example.test.\n"
	knot := testdaemons.StartKnot(t, map[string]string{
		"example.test":           "$ORIGIN example.test.\n",
		"113.0.203.in-addr.arpa": reverse,
	})
	out := filepath.Join(dir, "bundle")
	s := startWizard(t, bin, dir, "--out bundle --authoritative "+knot.Addr+" --resolver "+knot.Addr)
	if path := os.Getenv("SENDREADY_RECORD"); path != "" {
		s.record = &strings.Builder{}
		defer func() {
			if err := os.WriteFile(path, []byte(strings.TrimSuffix(s.record.String(), "```\nEXIT=0\n```\n\n")), 0o644); err != nil {
				t.Error(err)
			}
		}()
	}

	s.waitFor("Found on this machine", 15*time.Second) // detection done
	s.keys("Enter")
	s.waitFor("step 2 of 9", 5*time.Second)
	s.keys("C-u", "mail.example.test", "Enter")
	s.keys("C-u", "203.0.113.10", "Enter")
	s.keys("Enter") // no IPv6
	s.waitFor("step 3 of 9", 5*time.Second)
	if !strings.Contains(s.screen(), "> example.test") {
		t.Errorf("the domain is not pre-filled from the host name:\n%s", s.screen())
	}
	s.keys("Enter") // the domain
	s.keys("Enter") // recommended settings
	s.waitFor("step 4 of 9", 5*time.Second)
	s.keys("Enter") // direct
	s.keys("Enter") // no upstream
	s.waitFor("step 5 of 9", 5*time.Second)
	s.keys("Enter") // manual
	s.waitFor("step 6 of 9", 5*time.Second)
	s.keys("Enter")
	s.waitFor("DNS records to publish", 30*time.Second)

	for _, f := range []string{"bundle.json", "README.md", "install.sh", "postfix/main.cf.snippet",
		"opendkim/opendkim.conf", "dns/example.test.zone", "dns/records.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("bundle: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sendready-answers.yaml")); err != nil {
		t.Errorf("answers not saved: %v", err)
	}
	scr := s.screen()
	for _, want := range []string{"_domainkey", "v=spf1 ip4:203.0.113.10 ~all", "PTR mail.example.test"} {
		if !strings.Contains(scr, want) {
			t.Errorf("records screen lacks %q:\n%s", want, scr)
		}
	}

	// Publish the generated zone, then start the live checks.
	zone, err := os.ReadFile(filepath.Join(out, "dns", "example.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	knot.UpdateZone(t, "example.test", string(zone))
	s.keys("Enter")
	s.waitFor("Every check passes.", 60*time.Second)
	s.keys("Enter")
	s.waitFor("EXIT=0", 10*time.Second)
}

func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sendready")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startWizard runs bin with args in a new tmux session in dir.
func startWizard(t *testing.T, bin, dir, args string) tmuxSession {
	t.Helper()
	name := fmt.Sprintf("sendready-%s-%d", t.Name(), os.Getpid())
	cmd := bin + " " + args + "; echo EXIT=$?; sleep 30"
	start := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", dir, cmd)
	start.Env = append(os.Environ(), "TERM=xterm-256color")
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return tmuxSession{t: t, name: name}
}

// TestWizardSavesOnHangup: an SSH drop (tmux kill-session sends SIGHUP)
// mid-wizard saves the answers given so far, never a password.
func TestWizardSavesOnHangup(t *testing.T) {
	testdaemons.Require(t, "tmux")
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	s := startWizard(t, bin, dir, "--out "+filepath.Join(dir, "bundle")+" --resolver 127.0.0.1:9")
	s.waitFor("Found on this machine", 15*time.Second)
	s.keys("Enter")
	s.waitFor("step 2 of 9", 5*time.Second)
	s.keys("C-u", "mail.hangup.test", "Enter")
	s.keys("C-u", "203.0.113.10", "Enter")
	s.keys("Enter")
	s.waitFor("step 3 of 9", 5*time.Second)
	if out, err := exec.Command("tmux", "kill-session", "-t", s.name).CombinedOutput(); err != nil {
		t.Fatalf("tmux kill-session: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "sendready-answers.yaml")
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), "hostname: mail.hangup.test") {
			if !strings.Contains(string(data), "203.0.113.10") {
				t.Errorf("saved answers lack the address:\n%s", data)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("answers not saved after SIGHUP: %v\n%s", err, data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
