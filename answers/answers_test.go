package answers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

const goodYAML = `
server:
  hostname: Mail.Example.com.
  ipv4: [203.0.113.10]
domains:
  - name: example.com
    dmarc: {policy: none, rua: "mailto:dmarc@example.com"}
relay:
  mode: direct
`

func TestParseDefaults(t *testing.T) {
	a, err := Parse([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(fixedNow)
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Server.Hostname != "mail.example.com" {
		t.Errorf("hostname not normalised: %q", a.Server.Hostname)
	}
	d := a.Domains[0].DKIM
	if d.Selector != "202611" || d.Algorithm != AlgRSA || d.Bits != 2048 {
		t.Errorf("dkim defaults = %+v", d)
	}
	if a.Server.Distro != DistroDebian || a.DNS.Provider != ProviderManual || a.DNS.TTL != 3600 {
		t.Errorf("defaults: distro %q provider %q ttl %d", a.Server.Distro, a.DNS.Provider, a.DNS.TTL)
	}
	if !a.ReceivesMail() || !a.InboundSPFCheck() {
		t.Error("direct mode with default MX should receive mail and check SPF")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	a, err := Parse([]byte(goodYAML))
	if err != nil {
		t.Fatal(err)
	}
	a.Relay.Mode = ModeOffice365Connect
	a.Defaults(fixedNow)
	out, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parsing marshalled answers: %v\n%s", err, out)
	}
	b.Defaults(fixedNow)
	again, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("round trip changed answers:\n%s\n%s", out, again)
	}
	if !reflect.DeepEqual(a.Domains[0].DKIM, b.Domains[0].DKIM) || *b.Relay.Office365.MXToOffice365 != true {
		t.Errorf("round trip lost values: %+v", b)
	}
	if a.Relay.Office365.SmartHost != "example-com.mail.protection.outlook.com" {
		t.Errorf("derived smart host = %q", a.Relay.Office365.SmartHost)
	}
}

func TestShippedExamplesAreValid(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		a, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		a.Defaults(fixedNow)
		if _, err := a.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestBadAnswers: every problem is reported at once, each naming the key
// path, the value and the fix.
func TestBadAnswers(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error, each must appear
	}{
		{"unknown key with hint", "server:\n  hostnme: mail.example.com\n", []string{`server.hostnme: is not a known key — did you mean "hostname"?`}},
		{"several unknown keys", "servr: {}\ndomains:\n  - nam: example.com\n", []string{"servr: is not a known key", "domains[0].nam: is not a known key"}},
		{"wrong kind", "server:\n  ipv4: 203.0.113.10\ndomains:\n  - name: example.com\n    dkim: {bits: big}\n", []string{`server.ipv4: "203.0.113.10" is not a list`, `domains[0].dkim.bits: "big" is not a whole number`}},
		{"bad domain name", base(`domains: [{name: "exa mple.com"}]`), []string{`domains[0].name: "exa mple.com" is not a domain name`}},
		{"hostname not fqdn", strings.Replace(base(""), "mail.example.com", "mail", 1), []string{`server.hostname: "mail" is not fully qualified`}},
		{"private ip", strings.Replace(base(""), "203.0.113.10", "192.168.1.5", 1), []string{`server.ipv4[0]: "192.168.1.5" is a private address`, "relay.allow_private"}},
		{"loopback ip", strings.Replace(base(""), "203.0.113.10", "127.0.0.1", 1), []string{`server.ipv4[0]: "127.0.0.1" is a loopback address`}},
		{"v6 in ipv4", strings.Replace(base(""), "203.0.113.10", "2001:db8::1", 1), []string{`server.ipv4[0]: "2001:db8::1" is not an IPv4 address`}},
		{"open relay seed 003", base("relay: {mode: direct, upstream: {networks: [0.0.0.0/0]}}"), []string{`relay.upstream.networks[0]: "0.0.0.0/0"`, "open relay", "sasl: true"}},
		{"open relay v6", base("relay: {mode: direct, upstream: {networks: ['::/0']}}"), []string{`relay.upstream.networks[0]: "::/0"`, "open relay"}},
		{"too wide", base("relay: {mode: direct, upstream: {networks: [10.0.0.0/8, 2001:db8::/32]}}"), []string{`networks[0]: "10.0.0.0/8" is wider`, `networks[1]: "2001:db8::/32" is wider`}},
		{"ed25519 alone", base(`domains: [{name: example.com, dkim: {algorithm: ed25519}}]`), []string{`domains[0].dkim.algorithm: "ed25519" alone is refused`, "both"}},
		{"bad bits", base(`domains: [{name: example.com, dkim: {bits: 1000}}]`), []string{`domains[0].dkim.bits: "1000" is not a supported RSA key size`}},
		{"bad policy and rua", base(`domains: [{name: example.com, dmarc: {policy: block, rua: "dmarc@example.com"}}]`), []string{`dmarc.policy: "block" is not a DMARC policy`, `dmarc.rua: "dmarc@example.com" is not a mailto: URI`}},
		{"bad mode", base("relay: {mode: carrier-pigeon}"), []string{`relay.mode: "carrier-pigeon" is not a relay mode`}},
		{"o365 connector without ipv4", strings.Replace(base("relay: {mode: office365-connector}"), "ipv4: [203.0.113.10]", "ipv6: ['2001:db8::25']", 1), []string{"Office 365 connector by IP accepts IPv4 addresses only"}},
		{"o365 connector with ipv6", strings.Replace(base("relay: {mode: office365-connector}"), "ipv4: [203.0.113.10]", "ipv4: [203.0.113.10], ipv6: ['2001:db8::25']", 1), []string{`server.ipv6: "2001:db8::25" cannot go into an Office 365 connector`}},
		{"o365 cert without files", base("relay: {mode: office365-connector, office365: {connector_auth: certificate}}"), []string{"relay.office365.certificate: needs cert_file and key_file", "relay.office365.certificate.name"}},
		{"smtp auth without user", base("relay: {mode: office365-smtp-auth}"), []string{`relay.office365.username: is not a mailbox address`}},
		{"smarthost without host", base("relay: {mode: smarthost}"), []string{"relay.smarthost.host: is missing"}},
		{"spf a with ip", base(`domains: [{name: example.com, spf: ["a:1.1.1.1", "+all"]}]`), []string{`domains[0].spf[0]: "a:1.1.1.1" gives an address to a:`, `domains[0].spf[1]: "+all" is an all mechanism`}},
		{"no domains, no ips, bad distro", "server: {hostname: mail.example.com, distro: arch}\n", []string{"domains: is empty", "server.ipv4: is empty", `server.distro: "arch"`}},
		{"bad provider and ttl", base("dns: {provider: godaddy, ttl: 5}"), []string{`dns.provider: "godaddy"`, `dns.ttl: "5"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse([]byte(tt.yaml))
			if err == nil {
				a.Defaults(fixedNow)
				_, err = a.Validate()
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// base returns a valid answers file with the top-level sections in extra
// replacing the defaults.
func base(extra string) string {
	sections := map[string]string{
		"server":  "server: {hostname: mail.example.com, ipv4: [203.0.113.10]}",
		"domains": "domains: [{name: example.com}]",
		"relay":   "relay: {mode: direct}",
	}
	for _, line := range strings.Split(extra, "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && line != "" {
			sections[k] = line
		} else if line != "" {
			panic(line)
		}
	}
	var b strings.Builder
	for _, k := range []string{"server", "domains", "relay", "dns"} {
		if s, ok := sections[k]; ok {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

func TestWarnings(t *testing.T) {
	a, err := Parse([]byte(base(`domains: [{name: example.com, dkim: {bits: 1024}}]`)))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(fixedNow)
	warns, err := a.Validate()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	all := strings.Join(got, "\n")
	for _, w := range []string{`domains[0].dkim.bits: "1024" is weak`, `domains[0].dmarc.policy: "none" only monitors`} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("err = %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
