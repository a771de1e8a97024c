package detect

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeSystem builds a System over a temp root holding files, a command
// runner answering from outputs ("name arg..." → stdout; missing: not
// installed), and fixed interface addresses.
func fakeSystem(t *testing.T, files map[string]string, outputs map[string]string, addrs []string) System {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return System{
		Root: root,
		Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			out, ok := outputs[strings.Join(append([]string{name}, args...), " ")]
			if !ok {
				return nil, errors.New("exec: " + name + ": executable file not found in $PATH")
			}
			return []byte(out), nil
		},
		Addrs: func() ([]netip.Prefix, error) {
			var ps []netip.Prefix
			for _, a := range addrs {
				ps = append(ps, netip.MustParsePrefix(a))
			}
			return ps, nil
		},
		Hostname: func() (string, error) { return "fallback", nil },
	}
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		outputs map[string]string
		addrs   []string
		check   func(t *testing.T, r Result)
	}{
		{
			name: "debian with postfix, public addresses",
			files: map[string]string{
				"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n",
			},
			outputs: map[string]string{
				"hostname -f":                 "Mail.Example.COM.\n",
				"postconf -d -h mail_version": "3.7.11\n",
				"postconf -n":                 "myhostname = mail.example.com\nrelayhost = [relay.example.net]:587\ninet_interfaces = all\nsmtpd_milters = inet:localhost:8891\n",
				"opendkim -V":                 "opendkim: OpenDKIM Filter v2.11.0\n\tCompiled with OpenSSL 3.0.2\n",
			},
			addrs: []string{"127.0.0.1/8", "10.0.0.5/24", "203.0.113.10/24", "::1/128", "fe80::1/64", "2001:db8::25/64", "fd00::5/64"},
			check: func(t *testing.T, r Result) {
				if r.Hostname != "mail.example.com" {
					t.Errorf("Hostname = %q", r.Hostname)
				}
				if !reflect.DeepEqual(r.IPv4, addrs("203.0.113.10", "10.0.0.5")) {
					t.Errorf("IPv4 = %v, want public first", r.IPv4)
				}
				if !reflect.DeepEqual(r.PublicIPv4, addrs("203.0.113.10")) || !reflect.DeepEqual(r.PublicIPv6, addrs("2001:db8::25")) {
					t.Errorf("public = %v %v", r.PublicIPv4, r.PublicIPv6)
				}
				if !reflect.DeepEqual(r.IPv6, addrs("2001:db8::25", "fd00::5")) {
					t.Errorf("IPv6 = %v (loopback and link-local dropped)", r.IPv6)
				}
				if r.OnlyPrivate {
					t.Error("OnlyPrivate with a public address")
				}
				if r.Distro != "debian" || r.DistroName != "Debian GNU/Linux 12 (bookworm)" {
					t.Errorf("distro = %q %q", r.Distro, r.DistroName)
				}
				if r.Postfix != "3.7.11" || r.OpenDKIM != "2.11.0" {
					t.Errorf("versions = %q %q", r.Postfix, r.OpenDKIM)
				}
				want := map[string]string{"myhostname": "mail.example.com", "relayhost": "[relay.example.net]:587", "smtpd_milters": "inet:localhost:8891"}
				if !reflect.DeepEqual(r.Postconf, want) {
					t.Errorf("Postconf = %v, want %v", r.Postconf, want)
				}
				if !hasNote(r, "relayhost") || !hasNote(r, "milters") {
					t.Errorf("notes = %q", r.Notes)
				}
			},
		},
		{
			name:  "ubuntu via ID_LIKE, nothing installed, behind NAT",
			files: map[string]string{"etc/os-release": "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n"},
			addrs: []string{"192.168.1.20/24", "100.64.3.4/10"},
			check: func(t *testing.T, r Result) {
				if r.Hostname != "fallback" {
					t.Errorf("Hostname = %q, want the os.Hostname fallback", r.Hostname)
				}
				if r.Distro != "debian" {
					t.Errorf("Distro = %q", r.Distro)
				}
				if r.Postfix != "" || r.OpenDKIM != "" || len(r.Postconf) != 0 {
					t.Errorf("not installed, got %q %q %v", r.Postfix, r.OpenDKIM, r.Postconf)
				}
				if !r.OnlyPrivate || len(r.PublicIPv4) != 0 || len(r.IPv4) != 2 {
					t.Errorf("OnlyPrivate=%v public=%v all=%v", r.OnlyPrivate, r.PublicIPv4, r.IPv4)
				}
				if !hasNote(r, "NAT") || !hasNote(r, "192.168.1.20") {
					t.Errorf("notes = %q", r.Notes)
				}
			},
		},
		{
			name: "rocky with existing keys and a KeyTable",
			files: map[string]string{
				"etc/os-release": "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n",
				"etc/opendkim/keys/example.com/2024.private": "key",
				"etc/opendkim/KeyTable":                      "# comment\n2024._domainkey.example.com example.com:2024:/etc/opendkim/keys/example.com/2024.private\nold._domainkey.example.org example.org:old:/var/keys/old.pem\nbroken\n",
			},
			outputs: map[string]string{"hostname -f": "mx1.example.org\n"},
			check: func(t *testing.T, r Result) {
				if r.Distro != "rhel" {
					t.Errorf("Distro = %q", r.Distro)
				}
				if len(r.DKIMKeys) != 2 || r.DKIMKeys["example.org/old"] != "/var/keys/old.pem" ||
					!strings.HasSuffix(r.DKIMKeys["example.com/2024"], "etc/opendkim/keys/example.com/2024.private") {
					t.Errorf("DKIMKeys = %v", r.DKIMKeys)
				}
				if !r.OnlyPrivate {
					t.Error("no addresses at all should count as only private")
				}
				if !hasNote(r, "2 DKIM key") {
					t.Errorf("notes = %q", r.Notes)
				}
			},
		},
		{
			name:  "unknown distribution",
			files: map[string]string{"etc/os-release": "ID=arch\n"},
			addrs: []string{"198.51.100.7/32"},
			check: func(t *testing.T, r Result) {
				if r.Distro != "" || r.OnlyPrivate || len(r.Notes) != 0 {
					t.Errorf("Distro=%q OnlyPrivate=%v Notes=%q", r.Distro, r.OnlyPrivate, r.Notes)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, Detect(context.Background(), fakeSystem(t, tt.files, tt.outputs, tt.addrs)))
		})
	}
}

func hasNote(r Result, s string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func TestDetectEmptySystem(t *testing.T) {
	r := Detect(context.Background(), System{Root: t.TempDir()})
	if r.Hostname != "" || r.Distro != "" || !r.OnlyPrivate {
		t.Errorf("got %+v", r)
	}
}

func TestOpendkimVersion(t *testing.T) {
	for in, want := range map[string]string{
		"opendkim: OpenDKIM Filter v2.11.0": "2.11.0",
		"OpenDKIM Filter v2.10.3":           "2.10.3",
		"something else":                    "something else",
	} {
		if got := opendkimVersion(in); got != want {
			t.Errorf("opendkimVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"203.0.113.10": true, "10.1.2.3": false, "172.16.0.1": false, "100.64.0.1": false,
		"127.0.0.1": false, "169.254.1.1": false, "2001:db8::1": true, "fd12::1": false, "fe80::1": false,
	} {
		if got := IsPublic(netip.MustParseAddr(s)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", s, got, want)
		}
	}
}
