package tui

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sendready/sendready/answers"
)

// TestReviewScreen runs the real program at 80×24 through the default
// path to the review screen and compares it with
// testdata/TestReviewScreen.golden (go test ./tui -update rewrites it).
func TestReviewScreen(t *testing.T) {
	goldenPath, err := filepath.Abs(filepath.Join("testdata", t.Name()+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	// Relative paths keep the screen the same from run to run.
	dir := t.TempDir()
	opts := testOptions(t)
	seedKeys(t, filepath.Join(dir, "bundle"), []answers.Signer{{Domain: "example.com", Selector: "202606", Algorithm: answers.AlgRSA}})
	t.Chdir(dir)
	opts.AnswersPath, opts.BundleDir = "answers.yaml", "bundle"
	listed := make(chan struct{})
	var once sync.Once
	// The filter sees every message in the program's loop: it says when
	// the file listing has come back.
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		if _, ok := msg.(renderDoneMsg); ok {
			once.Do(func() { close(listed) })
		}
		return msg
	}
	tm := teatest.NewTestModel(t, newModel(context.Background(), opts), teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithFilter(filter)))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("Found on this machine")) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	for range 9 { // the default path up to the review
		tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-listed:
	case <-time.After(20 * time.Second):
		t.Fatal("the review never listed the files")
	}
	time.Sleep(100 * time.Millisecond)
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if fm.page.s != stateReview {
		t.Fatalf("on page %v", fm.page.s)
	}
	got := ansi.Strip(fm.View().Content)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(goldenPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update and review the diff)", err)
	}
	if got != string(want) {
		t.Errorf("review screen differs from %s (run with -update and review the diff):\n%s", goldenPath, got)
	}
}
