package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendready/sendready/answers"
)

func TestLoadZones(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dns"), 0o755); err != nil {
		t.Fatal(err)
	}
	json := `[
  {"zone":"example.com","name":"example.com.","type":"MX","ttl":3600,"value":"mail.example.com.","priority":10},
  {"zone":"example.org","name":"example.org.","type":"TXT","ttl":3600,"value":"v=spf1 ip4:203.0.113.10 ~all"},
  {"zone":"example.com","name":"mail.example.com.","type":"A","ttl":3600,"value":"203.0.113.10"},
  {"zone":"113.0.203.in-addr.arpa","name":"10.113.0.203.in-addr.arpa.","type":"PTR","ttl":3600,"value":"mail.example.com."}
]`
	if err := os.WriteFile(filepath.Join(dir, "dns", "records.json"), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	zones, err := LoadZones(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 2 || zones[0].Name != "example.com" || len(zones[0].Records) != 2 || zones[1].Name != "example.org" {
		t.Errorf("zones: %+v", zones)
	}
	if _, err := LoadZones(t.TempDir()); err == nil || !strings.Contains(err.Error(), "records.json") {
		t.Errorf("missing records.json: %v", err)
	}
}

func TestOpenErrorsNameTheSetting(t *testing.T) {
	a := &answers.Answers{}
	for _, tt := range []struct {
		s    Settings
		want string
	}{
		{Settings{}, `dns.provider is "manual"`},
		{Settings{Provider: "rfc2136"}, "dns.rfc2136.server"},
		{Settings{Provider: "rfc2136", Server: "192.0.2.53"}, "dns.rfc2136.tsig_key_file"},
		{Settings{Provider: "rfc2136", Server: "ns.example.com"}, "write an IP address"},
		{Settings{Provider: "godaddy"}, `"godaddy"`},
	} {
		t.Setenv(CloudflareTokenEnv, "")
		_, _, err := Open(tt.s, a)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.s, err, tt.want)
		}
	}
	t.Setenv(CloudflareTokenEnv, "")
	if _, _, err := Open(Settings{Provider: "cloudflare"}, a); err == nil || !strings.Contains(err.Error(), CloudflareTokenEnv) {
		t.Errorf("cloudflare without token: %v", err)
	}
}
