package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sendready/sendready/answers"
)

func TestWelcomeShowsDetection(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.wantPage(stateWelcome)
	d.wantView("mail.example.com", "203.0.113.10, 2001:db8::25", "Debian GNU/Linux 12", "(debian layout)", "step 1 of 9")
}

func TestWelcomeNAT(t *testing.T) {
	opts := testOptions(t)
	opts.System = fakeSystem(t, "10.0.0.5/24")
	d := newDriver(t, opts)
	d.wantView("behind NAT", "10.0.0.5")
	d.key("enter")
	d.wantView("No public address was found here (NAT?)")
}

func TestServerDefaultsAndValidation(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.key("enter")
	d.wantPage(stateServer)
	d.wantView("Host name", "mail.example.com", "203.0.113.10", "2001:db8::25", "HELO name")
	d.replace("mail")
	d.key("enter")
	d.wantPage(stateServer)
	d.wantView("is not fully qualified (it has no dot)")
	d.replace("mx.example.org")
	d.key("enter")
	d.replace("10.1.2.3")
	d.key("enter")
	d.wantView("is a private address")
	d.wantPage(stateServer)
}

func TestEscKeepsValues(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.key("enter")
	d.replace("mx.example.org")
	d.key("enter")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateDomains)
	d.wantView("example.com") // the host name's parent, detected before the edit
	d.replace("example.org, example.net")
	d.key("esc")
	d.wantPage(stateServer)
	d.wantView("mx.example.org")
	d.key("esc")
	d.wantPage(stateWelcome)
	d.key("enter")
	d.wantView("mx.example.org")
	d.key("enter")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateDomains)
	d.wantView("example.org, example.net")
}

func TestQuitOnlyWithoutTextFocus(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.key("enter")
	d.replace("mail.example.q")
	if d.m.confirmQuit {
		t.Fatal("q in a text field asked to quit")
	}
	d.wantView("mail.example.q")
	d.replace("mail.example.com")
	for range 5 {
		d.key("enter")
	}
	d.wantPage(stateTopology)
	d.key("q")
	d.wantView("Quit the wizard?", "saved to "+d.m.opts.AnswersPath, "never the password")
	d.key("n")
	d.wantPage(stateTopology)
	d.key("ctrl+c")
	d.key("y")
	if !d.m.quit || d.m.exitCode != 130 || !d.m.save {
		t.Fatalf("quit=%v code=%d save=%v", d.m.quit, d.m.exitCode, d.m.save)
	}
	code, err := finish(d.m, d.m.opts, nil)
	if code != 130 || err != nil {
		t.Fatalf("finish = %d, %v", code, err)
	}
	a, err := answers.Load(d.m.opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if a.Server.Hostname != "mail.example.com" || a.Domains[0].Name != "example.com" {
		t.Errorf("saved %+v", a)
	}
}

// TestDefaultPath counts the keypresses of an admin who accepts every
// detected default, from the welcome screen to a written bundle.
func TestDefaultPath(t *testing.T) {
	opts := testOptions(t)
	seedKeys(t, opts.BundleDir, []answers.Signer{{Domain: "example.com", Selector: "202606", Algorithm: answers.AlgRSA}})
	d := newDriver(t, opts)
	for d.m.page.s != stateRecords && d.keys < 30 {
		if d.m.page.s == stateReview {
			d.wantView("Review", "mail.example.com", "example.com", "DKIM 202606 (RSA 2048)", "DMARC p=none, reports to mailto:dmarc@example.com", "directly to the recipients")
		}
		d.key("enter")
	}
	d.wantPage(stateRecords)
	if d.keys != 10 {
		t.Errorf("the default path took %d keypresses, want 10", d.keys)
	}
	for _, p := range []string{"README.md", "install.sh", "dns/records.json", "postfix/main.cf.snippet"} {
		if _, err := os.Stat(filepath.Join(opts.BundleDir, p)); err != nil {
			t.Error(err)
		}
	}
	a, err := answers.Load(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if a.Relay.Mode != answers.ModeDirect || a.Domains[0].DMARC.RUA != "mailto:dmarc@example.com" || len(a.Server.IPv6) != 1 {
		t.Errorf("saved answers: %+v", a)
	}
	d.wantView("step 8 of 9")
}

func TestReviewSendsProblemsBack(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.key("enter")
	d.key("enter")
	d.replace("")
	d.key("enter")
	d.replace("")
	d.key("enter")
	for d.m.page.s != stateServer || d.keys < 8 {
		d.key("enter")
		if d.keys > 20 {
			t.Fatal("never came back to the server page")
		}
	}
	d.wantView("server.ipv4: is empty, and so is server.ipv6")
	if len(d.m.history) != 1 || d.m.history[0].s != stateWelcome {
		t.Errorf("history = %v", d.m.history)
	}
}

func TestOffice365Connector(t *testing.T) {
	d := newDriver(t, testOptions(t))
	for range 6 {
		d.key("enter")
	}
	d.wantPage(stateTopology)
	d.wantView("This server delivers to the recipients' MX")
	d.key("down")
	d.wantView("Mail goes into Office 365 through an inbound connector")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateRelay)
	d.wantView("example-com.mail.protection.outlook.com", "over IPv4 only")
	d.key("enter")
	d.key("down")
	d.key("enter")
	d.wantPage(stateCert)
	d.wantView("Certificate file")
	d.key("enter")
	d.wantView("needs cert_file and key_file")
	d.key("esc")
	d.wantPage(stateRelay)
	d.key("esc")
	d.wantPage(stateTopology)
	if d.d().Mode != answers.ModeOffice365Connect || d.d().ConnectorAuth != answers.ConnectorCertificate {
		t.Errorf("Esc lost the choices: %q %q", d.d().Mode, d.d().ConnectorAuth)
	}
}

func (d *driver) d() *draft { return d.m.d }

func TestSmarthostPassword(t *testing.T) {
	opts := testOptions(t)
	seedKeys(t, opts.BundleDir, []answers.Signer{{Domain: "example.com", Selector: "202606", Algorithm: answers.AlgRSA}})
	d := newDriver(t, opts)
	for range 6 {
		d.key("enter")
	}
	d.key("down")
	d.key("down")
	d.key("down")
	d.wantView("Mail leaves through your relay")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateRelay)
	d.typ("relay.example.net")
	d.key("enter")
	d.key("enter")
	d.typ("bob")
	d.key("enter")
	d.typ("s3cret-pw")
	if strings.Contains(d.view(), "s3cret-pw") {
		t.Fatal("the password shows on screen")
	}
	for d.m.page.s != stateRecords && d.keys < 30 {
		d.key("enter")
	}
	d.wantPage(stateRecords)
	saved, err := os.ReadFile(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(saved), "s3cret") || !strings.Contains(string(saved), "relay.example.net") {
		t.Errorf("answers file:\n%s", saved)
	}
	p := filepath.Join(opts.BundleDir, "postfix", "sasl_passwd")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "bob:s3cret-pw") {
		t.Errorf("sasl_passwd: %s", data)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("sasl_passwd mode %v", fi.Mode())
	}
}

func TestResumeFillsEverything(t *testing.T) {
	opts := testOptions(t)
	opts.Answers = &answers.Answers{
		Server:  answers.Server{Hostname: "mx.example.org", IPv4: []string{"198.51.100.9"}},
		Domains: []answers.Domain{{Name: "example.org", DKIM: answers.DKIM{Selector: "2024a"}, DMARC: answers.DMARC{Policy: "reject", RUA: "mailto:r@example.org"}}},
		Relay:   answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{Host: "relay.example.net", Port: 2525}},
	}
	d := newDriver(t, opts)
	d.wantView("Every question starts with the answers")
	d.key("enter")
	d.wantView("mx.example.org", "198.51.100.9")
	if strings.Contains(d.view(), "203.0.113.10") {
		t.Error("detected addresses replaced the loaded ones")
	}
	d.key("enter")
	d.key("enter")
	d.key("enter")
	d.wantView("example.org", "Choose per domain")
	d.key("enter")
	d.key("enter")
	d.wantPage(stateDomain)
	d.wantView("2024a")
	d.key("enter")
	d.key("enter")
	d.wantView("> reject", "mailto:r@example.org")
}

func TestResizeFits(t *testing.T) {
	d := newDriver(t, testOptions(t))
	d.key("enter")
	for _, size := range [][2]int{{80, 24}, {120, 40}, {80, 24}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		lines := strings.Split(d.view(), "\n")
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for _, l := range lines {
			if w := lipgloss.Width(l); w > size[0] {
				t.Errorf("%dx%d: line of %d cells: %q", size[0], size[1], w, l)
			}
		}
	}
}
