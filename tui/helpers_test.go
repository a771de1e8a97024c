package tui

import (
	"context"
	"crypto/rand"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/cursor"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
)

var testNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// fakeSystem is a Debian box called mail.example.com with one public
// address of each family.
func fakeSystem(t *testing.T, addrs ...string) detect.System {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "os-release"), []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if addrs == nil {
		addrs = []string{"127.0.0.1/8", "203.0.113.10/24", "2001:db8::25/64"}
	}
	return detect.System{
		Root: root,
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			if name == "hostname" {
				return []byte("mail.example.com\n"), nil
			}
			return nil, os.ErrNotExist
		},
		Addrs: func() ([]netip.Prefix, error) {
			var ps []netip.Prefix
			for _, a := range addrs {
				ps = append(ps, netip.MustParsePrefix(a))
			}
			return ps, nil
		},
	}
}

// testOptions writes into a temp dir.
func testOptions(t *testing.T) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		AnswersPath: filepath.Join(dir, "answers.yaml"),
		BundleDir:   filepath.Join(dir, "bundle"),
		Version:     "test",
		Rand:        rand.Reader,
		Now:         func() time.Time { return testNow },
		System:      fakeSystem(t),
		Out:         io.Discard,
	}
}

// seedKeys puts the fixed test keys where generate looks for existing
// keys (as generate/golden_test.go does), so nothing is generated.
func seedKeys(t *testing.T, dir string, signers []answers.Signer) {
	t.Helper()
	for _, s := range signers {
		src := "../generate/testdata/keys/rsa2048.pem"
		if s.Algorithm == answers.AlgEd25519 {
			src = "../generate/testdata/keys/ed25519.pem"
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "opendkim", "keys", s.Domain, s.Selector+".private")
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// driver drives the root model's Update directly, running the Cmds it
// returns and feeding their messages back, as Bubble Tea would.
type driver struct {
	t     *testing.T
	m     *model
	keys  int
	views []string
}

func newDriver(t *testing.T, opts Options) *driver {
	t.Helper()
	d := &driver{t: t, m: newModel(context.Background(), opts)}
	d.pump(d.m.Init())
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	return d
}

// busy reports an I/O Cmd the model waits for.
func (d *driver) busy() bool {
	return d.m.spinning()
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.pump(cmd)
}

// pump runs cmd and what follows from it. Cmds still running after a short
// wait (cursor blinks) are abandoned, unless the model waits for I/O.
func (d *driver) pump(cmd tea.Cmd) {
	d.t.Helper()
	results := make(chan tea.Msg, 1024)
	outstanding := 0
	var launch func(c tea.Cmd)
	launch = func(c tea.Cmd) {
		if c == nil {
			return
		}
		outstanding++
		go func() { results <- c() }()
	}
	launch(cmd)
	for outstanding > 0 {
		wait := 40 * time.Millisecond
		if d.busy() {
			wait = 30 * time.Second
		}
		select {
		case msg := <-results:
			outstanding--
			switch msg := msg.(type) {
			case nil, spinner.TickMsg, cursor.BlinkMsg:
			case tea.BatchMsg:
				for _, c := range msg {
					launch(c)
				}
			default:
				if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
					for i := range v.Len() {
						launch(v.Index(i).Interface().(tea.Cmd))
					}
					continue
				}
				if reflect.TypeOf(msg).PkgPath() == "charm.land/bubbles/v2/cursor" {
					continue
				}
				_, c := d.m.Update(msg)
				launch(c)
			}
		case <-time.After(wait):
			if d.busy() {
				d.t.Fatalf("still waiting for I/O on %v", d.m.page)
			}
			return
		}
	}
}

// key presses one key: "enter", "esc", "tab", "down", "up", "ctrl+c",
// "ctrl+u", or a single character.
func (d *driver) key(k string) {
	d.t.Helper()
	d.keys++
	d.send(keyMsg(k))
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// typ types text into the focused field.
func (d *driver) typ(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// replace clears the focused text field and types s.
func (d *driver) replace(s string) {
	d.t.Helper()
	d.send(keyMsg("ctrl+u"))
	d.typ(s)
}

// view is the screen without styling.
func (d *driver) view() string { return ansi.Strip(d.m.View().Content) }

func (d *driver) wantView(want ...string) {
	d.t.Helper()
	v := d.view()
	for _, w := range want {
		if !strings.Contains(v, w) {
			d.t.Fatalf("screen lacks %q:\n%s", w, v)
		}
	}
}

func (d *driver) wantPage(s state) {
	d.t.Helper()
	if d.m.page.s != s {
		d.t.Fatalf("on page %v, want %v:\n%s", d.m.page.s, s, d.view())
	}
}
