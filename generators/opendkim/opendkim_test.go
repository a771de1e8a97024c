package opendkim

import (
	"errors"
	"strings"
	"testing"

	"github.com/sendready/sendready/internal/goldenfile"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/layout"
)

// baseAnswers is one domain, direct mode, RSA, with defaults applied.
func baseAnswers() *answers.Answers {
	return &answers.Answers{
		Server: answers.Server{
			Hostname: "mail.example.com",
			IPv4:     []string{"203.0.113.10"},
			Distro:   answers.DistroDebian,
		},
		Domains: []answers.Domain{{
			Name: "example.com",
			DKIM: answers.DKIM{Selector: "202601", Algorithm: answers.AlgRSA, Bits: 2048},
		}},
		Relay: answers.Relay{Mode: answers.ModeDirect},
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
		{"DirectRSA", func(a *answers.Answers) {}},
		{"AlgorithmBoth", func(a *answers.Answers) { a.Domains[0].DKIM.Algorithm = answers.AlgBoth }},
		{"Ed25519Only", func(a *answers.Answers) {
			a.Domains[0].DKIM.Algorithm = answers.AlgEd25519
			a.Domains[0].DKIM.Bits = 0
		}},
		{"TwoDomainsOneExternal", func(a *answers.Answers) {
			a.Domains = append(a.Domains, answers.Domain{
				Name: "example.net",
				DKIM: answers.DKIM{Selector: "exch1", Algorithm: answers.AlgRSA, Bits: 2048, PublicKey: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"},
			})
		}},
		{"UpstreamNetworks", func(a *answers.Answers) {
			a.Relay.Upstream.Networks = []string{"198.51.100.7", "192.0.2.0/24", "2001:DB8:1::/48", "2001:db8::25", "127.0.0.1", "::ffff:198.51.100.8"}
		}},
		{"RHELBoth", func(a *answers.Answers) {
			a.Server.Distro = answers.DistroRHEL
			a.Domains[0].DKIM.Algorithm = answers.AlgBoth
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := baseAnswers()
			tt.change(a)
			files, err := Files(input(a))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, dump(files))
		})
	}
}

func TestFilesEd25519InstanceOnlyWhenNeeded(t *testing.T) {
	for _, alg := range []string{answers.AlgRSA, answers.AlgBoth, answers.AlgEd25519} {
		for _, external := range []bool{false, true} {
			a := baseAnswers()
			a.Domains[0].DKIM.Algorithm = alg
			if external {
				a.Domains[0].DKIM.PublicKey = "MCowBQYDK2VwAyEA"
			}
			files, err := Files(input(a))
			if err != nil {
				t.Fatal(err)
			}
			has := false
			for _, f := range files {
				if strings.HasPrefix(f.Path, "opendkim/ed25519/") {
					has = true
				}
			}
			want := alg != answers.AlgRSA && !external
			if has != want {
				t.Errorf("algorithm %s, external %v: second instance generated = %v, want %v", alg, external, has, want)
			}
		}
	}
}

func TestFilesRefusesTrustAll(t *testing.T) {
	for _, n := range []string{"0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96"} {
		a := baseAnswers()
		a.Relay.Upstream.Networks = []string{"192.0.2.1", n}
		_, err := Files(input(a))
		if n == "::ffff:0.0.0.0/96" {
			// Maps to 0.0.0.0/0 for IPv4 clients.
			if !errors.Is(err, ErrTrustAll) {
				t.Errorf("%s: err = %v, want ErrTrustAll", n, err)
			}
			continue
		}
		if !errors.Is(err, ErrTrustAll) {
			t.Errorf("%s: err = %v, want ErrTrustAll", n, err)
		}
	}
}

func TestFilesRefusesBadValues(t *testing.T) {
	tests := map[string]func(a *answers.Answers){
		"selector with space": func(a *answers.Answers) { a.Domains[0].DKIM.Selector = "a b" },
		"selector with colon": func(a *answers.Answers) { a.Domains[0].DKIM.Selector = "a:b" },
		"domain with hash":    func(a *answers.Answers) { a.Domains[0].Name = "ex#ample.com" },
		"hostname newline":    func(a *answers.Answers) { a.Server.Hostname = "mail\n0.0.0.0/0" },
		"bad network":         func(a *answers.Answers) { a.Relay.Upstream.Networks = []string{"not-a-net"} },
	}
	for name, change := range tests {
		a := baseAnswers()
		change(a)
		if _, err := Files(input(a)); !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: err = %v, want ErrBadValue", name, err)
		}
	}
}

func TestFilesUnderRoot(t *testing.T) {
	a := baseAnswers()
	a.Domains[0].DKIM.Algorithm = answers.AlgBoth
	in := input(a)
	in.Layout = layout.For("debian", "/srv/scratch")
	files, err := Files(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Target, "/srv/scratch/") {
			t.Errorf("%s: target %s is outside the root", f.Path, f.Target)
		}
		for _, line := range strings.Split(string(f.Data), "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			for _, field := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' || r == '=' }) {
				if strings.HasPrefix(field, "/etc/") || strings.HasPrefix(field, "/run/") {
					t.Errorf("%s: %q refers to %s outside the root", f.Path, line, field)
				}
			}
		}
	}
}

func TestKeyFiles(t *testing.T) {
	a := baseAnswers()
	a.Domains[0].DKIM.Algorithm = answers.AlgBoth
	a.Domains = append(a.Domains, answers.Domain{
		Name: "example.net",
		DKIM: answers.DKIM{Selector: "x", Algorithm: answers.AlgRSA, Bits: 2048, PublicKey: "MIIB"},
	})
	got := KeyFiles(input(a))
	want := []KeyFile{
		{BundlePath: "opendkim/keys/example.com/202601.private", Target: "/etc/opendkim/keys/example.com/202601.private"},
		{BundlePath: "opendkim/keys/example.com/202601-ed.private", Target: "/etc/opendkim/keys/example.com/202601-ed.private"},
	}
	if len(got) != len(want) {
		t.Fatalf("KeyFiles = %+v, want %d entries", got, len(want))
	}
	for i := range want {
		if got[i].BundlePath != want[i].BundlePath || got[i].Target != want[i].Target {
			t.Errorf("KeyFiles[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[1].Signer.Algorithm != answers.AlgEd25519 {
		t.Errorf("KeyFiles[1].Signer = %+v, want the ed25519 signer", got[1].Signer)
	}
}

func TestMilters(t *testing.T) {
	a := baseAnswers()
	if got := strings.Join(Milters(a), ","); got != "inet:127.0.0.1:8891" {
		t.Errorf("rsa: Milters = %s", got)
	}
	a.Domains[0].DKIM.Algorithm = answers.AlgBoth
	if got := strings.Join(Milters(a), ","); got != "inet:127.0.0.1:8891,inet:127.0.0.1:8892" {
		t.Errorf("both: Milters = %s", got)
	}
}

func golden(t *testing.T, got string) { goldenfile.Assert(t, goldenfile.Path(t), []byte(got)) }

func dump(files []generators.File) string { return goldenfile.Dump(files) }
