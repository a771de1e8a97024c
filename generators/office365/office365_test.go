package office365

import (
	"errors"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
)

func connectorAnswers() *answers.Answers {
	no := false
	return &answers.Answers{
		Server: answers.Server{
			Hostname: "relay.example.com",
			IPv4:     []string{"203.0.113.10", "203.0.113.11"},
			IPv6:     []string{"2001:db8::10"},
			Distro:   answers.DistroDebian,
		},
		Domains: []answers.Domain{
			{Name: "example.com", DKIM: answers.DKIM{Selector: "202601", Algorithm: answers.AlgRSA, Bits: 2048}},
			{Name: "example.net", DKIM: answers.DKIM{Selector: "202601", Algorithm: answers.AlgBoth, Bits: 2048}},
		},
		Relay: answers.Relay{
			Mode: answers.ModeOffice365Connect,
			Office365: answers.Office365{
				SmartHost:     "example-com.mail.protection.outlook.com",
				ConnectorAuth: answers.ConnectorIP,
				MXToOffice365: &no,
			},
		},
	}
}

func input(a *answers.Answers) generators.Input {
	return generators.Input{Answers: a, Layout: layout.For(a.Server.Distro, "/"), Version: "test"}
}

func TestFiles(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *answers.Answers)
	}{
		{"ConnectorIP", func(a *answers.Answers) {}},
		{"ConnectorCertificate", func(a *answers.Answers) {
			a.Relay.Office365.ConnectorAuth = answers.ConnectorCertificate
			a.Relay.Office365.Certificate = answers.Certificate{
				CertFile: "/etc/ssl/certs/relay.pem", KeyFile: "/etc/ssl/private/relay.key", Name: "relay.example.com",
			}
		}},
		{"SMTPAuth", func(a *answers.Answers) {
			a.Relay.Mode = answers.ModeOffice365SMTPAuth
			a.Relay.Office365.Username = "o'brien@example.com"
			a.Relay.Office365.MessagesPerMinute = 20
			a.Domains = a.Domains[:1]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := connectorAnswers()
			tt.change(a)
			files, err := Files(input(a))
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 1 {
				t.Fatalf("got %d files, want 1", len(files))
			}
			golden(t, files)
		})
	}
}

func TestFilesOnlyInOffice365Modes(t *testing.T) {
	for _, mode := range []string{answers.ModeDirect, answers.ModeSmarthost} {
		a := connectorAnswers()
		a.Relay.Mode = mode
		files, err := Files(input(a))
		if err != nil || len(files) != 0 {
			t.Errorf("mode %s: Files = %d files, %v; want none", mode, len(files), err)
		}
	}
}

func TestFilesIPConnectorUsesIPv4Only(t *testing.T) {
	files, err := Files(input(connectorAnswers()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(files[0].Data)
	if !strings.Contains(s, "SenderIPAddresses            = @('203.0.113.10', '203.0.113.11')") {
		t.Errorf("IPv4 addresses missing:\n%s", s)
	}
	if strings.Contains(s, "2001:db8") {
		t.Errorf("IPv6 address in the connector:\n%s", s)
	}
}

func TestFilesErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *answers.Answers)
		want   error
	}{
		{"ip connector without IPv4", func(a *answers.Answers) { a.Server.IPv4 = nil }, ErrMissing},
		{"certificate without name", func(a *answers.Answers) { a.Relay.Office365.ConnectorAuth = answers.ConnectorCertificate }, ErrMissing},
		{"smtp auth without username", func(a *answers.Answers) { a.Relay.Mode = answers.ModeOffice365SMTPAuth }, ErrMissing},
		{"no domains", func(a *answers.Answers) { a.Domains = nil }, ErrMissing},
		{"newline in hostname", func(a *answers.Answers) { a.Server.Hostname = "relay.example.com\nRemove-Item C:\\" }, ErrBadValue},
		{"newline in username", func(a *answers.Answers) {
			a.Relay.Mode = answers.ModeOffice365SMTPAuth
			a.Relay.Office365.Username = "a@example.com\r\nx"
		}, ErrBadValue},
	}
	for _, tt := range tests {
		a := connectorAnswers()
		tt.change(a)
		if _, err := Files(input(a)); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := map[string]string{
		"example.com":         `'example.com'`,
		"":                    `''`,
		"o'brien@example.com": `'o''brien@example.com'`,
		"it’s":                `'it’’s'`,
		"‘a‚b‛":               `'‘‘a‚‚b‛‛'`,
		`$env:x "y" ` + "`n":  `'$env:x "y" ` + "`n'",
	}
	for in, want := range tests {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := List([]string{"a.com", "b'c.com"}); got != `'a.com', 'b''c.com'` {
		t.Errorf("List = %s", got)
	}
}

func golden(t *testing.T, files []generators.File) {
	t.Helper()
	goldenfile.Assert(t, goldenfile.Path(t), []byte(goldenfile.Dump(files)))
}
