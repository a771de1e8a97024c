package postfix

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func no() *bool { b := false; return &b }

// topologies are the answer sets every test runs over, by name.
func topologies() []struct {
	name string
	a    answers.Answers
} {
	server := answers.Server{Hostname: "mail.example.com", IPv4: []string{"203.0.113.10"}}
	dom := []answers.Domain{{Name: "example.com"}}
	return []struct {
		name string
		a    answers.Answers
	}{
		{"Direct", answers.Answers{Server: server, Domains: dom}},
		{"Office365ConnectorIP", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Mode: answers.ModeOffice365Connect}}},
		{"Office365ConnectorCertificate", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Mode: answers.ModeOffice365Connect, Office365: answers.Office365{
				ConnectorAuth: answers.ConnectorCertificate,
				Certificate: answers.Certificate{
					CertFile: "/etc/ssl/sendready/relay.example.com.crt",
					KeyFile:  "/etc/ssl/sendready/relay.example.com.key",
					Name:     "relay.example.com",
				}}}}},
		{"Office365SMTPAuth", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Mode: answers.ModeOffice365SMTPAuth, Office365: answers.Office365{
				Username: "relay@example.com"}}}},
		{"SmarthostAll", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{
				Host: "relay.example.net", Port: 25}}}},
		{"SmarthostDestinationsAuth", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{
				Host: "relay.example.net", Username: "cn-relay",
				Destinations: []string{"example.cn", "Example.ORG."}}}}},
		{"UpstreamNetworks", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Upstream: answers.Upstream{
				Networks: []string{"198.51.100.7", "192.0.2.0/24", "2001:db8:1::/48"}}}}},
		{"UpstreamSASL", answers.Answers{Server: server, Domains: dom,
			Relay: answers.Relay{Upstream: answers.Upstream{SASL: true}}}},
		{"DirectAlgorithmBoth", answers.Answers{Server: server,
			Domains: []answers.Domain{{Name: "example.com", DKIM: answers.DKIM{Algorithm: answers.AlgBoth}}}}},
		{"DirectIPv6", answers.Answers{
			Server: answers.Server{Hostname: "mail.example.com", IPv4: []string{"203.0.113.10"},
				IPv6: []string{"2001:db8::10"}, InboundSPF: no()},
			Domains: dom}},
	}
}

func input(a answers.Answers, distro, root, password string) generators.Input {
	a.Server.Distro = distro
	// Defaults writes into the domains: give each caller its own copy.
	a.Domains = slices.Clone(a.Domains)
	for i := range a.Domains {
		a.Domains[i].MX = slices.Clone(a.Domains[i].MX)
	}
	a.Defaults(fixedNow)
	return generators.Input{
		Answers:      &a,
		Layout:       layout.For(distro, root),
		Version:      "test",
		SASLPassword: password,
	}
}

// bundleText is every file of the topology, with its metadata, as one text.
func bundleText(t *testing.T, in generators.Input) string {
	t.Helper()
	files, err := Files(in)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "==> %s  target=%q mode=%04o secret=%v\n%s\n", f.Path, f.Target, f.Mode, f.Secret, f.Data)
	}
	fmt.Fprintf(&b, "==> packages\n%s\n\n", strings.Join(Packages(in.Answers), "\n"))
	fmt.Fprintf(&b, "==> warnings\n")
	for _, w := range Warnings(in.Answers) {
		fmt.Fprintf(&b, "- %s\n", w)
	}
	return b.String()
}

func TestFiles(t *testing.T) {
	for _, tc := range topologies() {
		for _, distro := range []string{answers.DistroDebian, answers.DistroRHEL} {
			t.Run(tc.name+"/"+distro, func(t *testing.T) {
				golden(t, bundleText(t, input(tc.a, distro, "/", "")))
			})
		}
	}
}

func TestMainCFOnePostconfCall(t *testing.T) {
	for _, tc := range topologies() {
		t.Run(tc.name, func(t *testing.T) {
			s, err := MainCF(input(tc.a, answers.DistroDebian, "/", ""))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, x := range s {
				if seen[x.Key] {
					t.Errorf("%s set twice", x.Key)
				}
				seen[x.Key] = true
				if x.Comment == "" {
					t.Errorf("%s has no comment", x.Key)
				}
				if strings.ContainsAny(x.Value, "\n\r") || x.Value == "" {
					t.Errorf("%s = %q cannot go into one postconf -e argument", x.Key, x.Value)
				}
			}
			for _, k := range []string{"myhostname", "smtpd_milters", "non_smtpd_milters", "milter_default_action", "milter_protocol", "smtp_tls_security_level", "inet_protocols", "mynetworks"} {
				if !seen[k] {
					t.Errorf("%s missing", k)
				}
			}
		})
	}
}

func TestSASLPasswordGiven(t *testing.T) {
	a := topologies()[3].a // Office365SMTPAuth
	files, err := Maps(input(a, answers.DistroDebian, "/", "s3cret pass"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != SASLPasswdPath {
		t.Fatalf("maps = %+v", files)
	}
	f := files[0]
	if !f.Secret || f.Mode != 0o600 || f.Target != "/etc/postfix/sasl_passwd" {
		t.Errorf("sasl_passwd metadata: %+v", f)
	}
	if !strings.Contains(string(f.Data), "\n[smtp.office365.com]:587 relay@example.com:s3cret pass\n") {
		t.Errorf("sasl_passwd:\n%s", f.Data)
	}
	if strings.Contains(string(f.Data), generators.Placeholder) {
		t.Errorf("placeholder written although a password was given")
	}
	if _, err := Maps(input(a, answers.DistroDebian, "/", "a\nb")); !errors.Is(err, ErrBadValue) {
		t.Errorf("password with newline: err = %v, want ErrBadValue", err)
	}
}

func TestRateDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{30, "2s"}, {0, "2s"}, {60, "1s"}, {120, "1s"}, {7, "9s"}, {1, "60s"}} {
		if got := rateDelay(tc.n); got != tc.want {
			t.Errorf("rateDelay(%d) = %s, want %s", tc.n, got, tc.want)
		}
	}
}

func TestBadAnswers(t *testing.T) {
	base := topologies()[0].a
	for _, tc := range []struct {
		name string
		edit func(a *answers.Answers)
		want error
	}{
		{"no hostname", func(a *answers.Answers) { a.Server.Hostname = "" }, ErrIncomplete},
		{"unknown mode", func(a *answers.Answers) { a.Relay.Mode = "pigeon" }, ErrBadValue},
		{"smtp-auth without user", func(a *answers.Answers) { a.Relay.Mode = answers.ModeOffice365SMTPAuth }, ErrIncomplete},
		{"smarthost without host", func(a *answers.Answers) { a.Relay.Mode = answers.ModeSmarthost }, ErrIncomplete},
		{"certificate without files", func(a *answers.Answers) {
			a.Relay.Mode = answers.ModeOffice365Connect
			a.Relay.Office365.ConnectorAuth = answers.ConnectorCertificate
		}, ErrIncomplete},
		{"space in user", func(a *answers.Answers) {
			a.Relay.Mode = answers.ModeSmarthost
			a.Relay.Smarthost = answers.Smarthost{Host: "relay.example.net", Username: "a b"}
		}, ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base
			tc.edit(&a)
			in := input(a, answers.DistroDebian, "/", "")
			if _, err := Files(in); !errors.Is(err, tc.want) {
				t.Errorf("Files: err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := MainCF(generators.Input{}); !errors.Is(err, ErrIncomplete) {
		t.Errorf("nil answers: err = %v", err)
	}
}

func TestServiceForms(t *testing.T) {
	s := Service{Name: "submission", Type: "inet", Private: "n", Unpriv: "-", Chroot: "n", Wakeup: "-", Maxproc: "-",
		Command: "smtpd", Args: []string{"-o", "a=b", "-o", "c=d,e", "extra"}}
	if got, want := s.Entry(), "submission inet n - n - - smtpd -o a=b -o c=d,e extra"; got != want {
		t.Errorf("Entry = %q, want %q", got, want)
	}
	if got, want := s.Block(), "submission inet n - n - - smtpd\n  -o a=b\n  -o c=d,e\n  extra"; got != want {
		t.Errorf("Block = %q, want %q", got, want)
	}
	if got := s.Overrides(); len(got) != 2 || got[1] != [2]string{"c", "d,e"} {
		t.Errorf("Overrides = %v", got)
	}
	if s.Key() != "submission/inet" {
		t.Errorf("Key = %s", s.Key())
	}
}

func golden(t *testing.T, got string) {
	t.Helper()
	name := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	goldenfile.Assert(t, name, []byte(got))
}
