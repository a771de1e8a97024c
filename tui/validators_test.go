package tui

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/answers"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name  string
		fn    func(string) error
		in    string
		want  string // "" : valid; else a substring of the error
		check string // key path whose answers.Validate message must equal the error
	}{
		{"hostname ok", validHostname, "mail.example.com", "", ""},
		{"hostname short", validHostname, "mail", "is not fully qualified (it has no dot)", "server.hostname"},
		{"hostname empty", validHostname, "", "is missing", "server.hostname"},
		{"hostname bad char", validHostname, "mail_1.example.com", "is not a domain name", "server.hostname"},
		{"ipv4 ok", validIPv4List, "203.0.113.10, 198.51.100.1", "", ""},
		{"ipv4 empty ok", validIPv4List, "", "", ""},
		{"ipv4 private", validIPv4List, "10.0.0.5", "is a private address", ""},
		{"ipv4 is v6", validIPv4List, "2001:db8::1", "is not an IPv4 address", ""},
		{"ipv4 duplicate", validIPv4List, "203.0.113.10, 203.0.113.10", "lists this address twice", ""},
		{"ipv4 private lab", ipListValidator(true, true), "10.0.0.5", "", ""},
		{"ipv6 ok", validIPv6List, "2001:db8::25", "", ""},
		{"ipv6 is v4", validIPv6List, "203.0.113.10", "is not an IPv6 address", ""},
		{"domains ok", validDomainList, "example.com, example.org", "", ""},
		{"domains empty", validDomainList, "", "is empty", ""},
		{"domains twice", validDomainList, "example.com, Example.com", "is listed twice", ""},
		{"domains ip", validDomainList, "192.0.2.1", "is an IP address", ""},
		{"dns server ok", validDNSServer, "192.0.2.53", "", ""},
		{"dns server port", validDNSServer, "192.0.2.53:5353", "", ""},
		{"dns server v6", validDNSServer, "[2001:db8::53]:53", "", ""},
		{"dns server empty", validDNSServer, "", "is empty", ""},
		{"dns server name", validDNSServer, "ns1.example.com", "is not an address[:port]", ""},
		{"tsig file ok", validTSIGFile, "/etc/sendready/update.key", "", ""},
		{"tsig file empty", validTSIGFile, " ", "is empty", ""},
		{"token file empty ok", validTokenFile, "", "", ""},
		{"token file ok", validTokenFile, "cloudflare.token", "", ""},
		{"token file lines", validTokenFile, "a\nb", "is not a file path", ""},
		{"selector ok", validSelector, "202606", "", ""},
		{"selector empty", validSelector, "", "is empty", ""},
		{"selector bad", validSelector, "20 26", "is not a selector", ""},
		{"rua ok", ruaValidator("example.com"), "mailto:dmarc@example.com", "", ""},
		{"rua empty ok", ruaValidator("example.com"), "", "", ""},
		{"rua no mailto", ruaValidator("example.com"), "dmarc@example.com", "is not a mailto: URI — write mailto:dmarc@example.com", ""},
		{"smart host ok", validSmartHost365, "example-com.mail.protection.outlook.com", "", ""},
		{"smart host empty", validSmartHost365, "", "is empty", ""},
		{"mailbox ok", validMailbox, "relay@example.com", "", ""},
		{"mailbox bad", validMailbox, "relay", "is not a mailbox address", ""},
		{"relay host ok", validRelayHost, "relay.example.net", "", ""},
		{"relay host ip ok", validRelayHost, "192.0.2.25", "", ""},
		{"relay host empty", validRelayHost, "", "is missing", ""},
		{"port ok", validPort, "587", "", ""},
		{"port words", validPort, "smtp", `"smtp" is not a TCP port`, ""},
		{"port range", validPort, "70000", `"70000" is not a TCP port`, ""},
		{"destinations ok", validDestinations, "example.org, .example.net", "", ""},
		{"destinations bad", validDestinations, "exa_mple.org", "is not a domain name", ""},
		{"relay spf ok", validRelaySPF, "include:_spf.example.net", "", ""},
		{"relay spf all", validRelaySPF, "+all", "is an all mechanism", ""},
		{"networks ok", validNetworks, "198.51.100.7, 10.0.0.0/24", "", ""},
		{"networks empty", validNetworks, "", "is empty", ""},
		{"networks open relay", validNetworks, "0.0.0.0/0", "open relay", ""},
		{"cert name ok", validCertName, "mail.example.com", "", ""},
		{"cert name bad", validCertName, "", "is not a certificate subject name", ""},
		{"cert path empty", validCertPath, "", "needs cert_file and key_file", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fn(tt.in)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("%q: %v", tt.in, err)
			case tt.want != "" && err == nil:
				t.Fatalf("%q: no error, want %q", tt.in, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("%q: %v, want %q", tt.in, err, tt.want)
			}
			if tt.check != "" {
				// The same value in a whole answers file gives the same words.
				a := &answers.Answers{Server: answers.Server{Hostname: tt.in, IPv4: []string{"203.0.113.10"}}, Domains: []answers.Domain{{Name: "example.com"}}}
				a.Defaults(time.Now())
				_, verr := a.Validate()
				var ve *answers.ValidationError
				if !errors.As(verr, &ve) {
					t.Fatal("answers.Validate accepted it")
				}
				for _, p := range ve.Problems {
					if p.Path == tt.check && problemText(p) == err.Error() {
						return
					}
				}
				t.Errorf("no %s problem reads %q in %v", tt.check, err, ve)
			}
		})
	}
}
