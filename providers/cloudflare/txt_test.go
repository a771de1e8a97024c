package cloudflare

import (
	"strings"
	"testing"
)

func TestTXTValue(t *testing.T) {
	tests := []struct{ content, want string }{
		{`v=spf1 mx -all`, `v=spf1 mx -all`},
		{`"v=spf1 mx -all"`, `v=spf1 mx -all`},
		{`"v=DKIM1; k=rsa; " "p=MIIB"`, `v=DKIM1; k=rsa; p=MIIB`},
		{` "a"  "b" `, `ab`},
		{`"a""b"`, `ab`},
		{`"say \"hi\" \\ now"`, `say "hi" \ now`},
		{`"caf\195\169"`, "caf\u00e9"},
		{`"\999"`, `999`},
		{`""`, ``},
		{``, ``},
		// Not a clean list of quoted strings: plain text.
		{`"unterminated`, `"unterminated`},
		{`"a" b`, `"a" b`},
		{`v="quoted" inside`, `v="quoted" inside`},
	}
	for _, tt := range tests {
		if got := txtValue(tt.content); got != tt.want {
			t.Errorf("txtValue(%q) = %q, want %q", tt.content, got, tt.want)
		}
	}
}

func TestTXTContentRoundTrip(t *testing.T) {
	for _, v := range []string{
		"",
		"v=spf1 mx -all",
		`with "quotes" and \ backslash`,
		"caf\u00e9 \x01",
		strings.Repeat("a", 255),
		strings.Repeat("b", 256),
		strings.Repeat("c", 510) + "d",
		dkimValue(3),
	} {
		c := txtContent(v)
		if got := txtValue(c); got != v {
			t.Errorf("txtValue(txtContent(%q)) = %q", v, got)
		}
		for _, s := range quotedStrings(c) {
			if len(s) > 255 {
				t.Errorf("txtContent(%q) has a %d-byte string", v, len(s))
			}
		}
	}
	if got, want := txtContent(strings.Repeat("x", 300)), `"`+strings.Repeat("x", 255)+`" "`+strings.Repeat("x", 45)+`"`; got != want {
		t.Errorf("txtContent of 300 bytes = %s, want %s", got, want)
	}
}
