package records

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

func TestParseDMARC(t *testing.T) {
	tests := []struct {
		in       string
		want     DMARC
		warnings []string
		canon    string
	}{
		{in: "v=DMARC1; p=none", want: DMARC{Policy: PolicyNone}},
		{in: "v=DMARC1;p=reject;", want: DMARC{Policy: PolicyReject}, canon: "v=DMARC1; p=reject"},
		{
			in:   "v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:dmarc@example.com,mailto:d@reports.example.net!10m; ruf=mailto:f@example.com; adkim=s; aspf=s; fo=1:d; rf=afrf; ri=3600",
			want: DMARC{Policy: PolicyQuarantine, SubdomainPolicy: PolicyReject, Pct: intp(50), RUA: []string{"mailto:dmarc@example.com", "mailto:d@reports.example.net!10m"}, RUF: []string{"mailto:f@example.com"}, ADKIM: AlignStrict, ASPF: AlignStrict, FailureOptions: "1:d", ReportInterval: 3600},
			// rf=afrf is the default and is left out.
			canon: "v=DMARC1; p=quarantine; sp=reject; pct=50; rua=mailto:dmarc@example.com,mailto:d@reports.example.net!10m; ruf=mailto:f@example.com; adkim=s; aspf=s; fo=1:d; ri=3600",
		},
		{in: "v=DMARC1; p=none; pct=0", want: DMARC{Policy: PolicyNone, Pct: intp(0)}},
		{in: "v=DMARC1; p=none; pct=100; adkim=r; aspf=r; fo=0; rf=afrf; ri=86400", want: DMARC{Policy: PolicyNone}, canon: "v=DMARC1; p=none"},
		{in: "V=DMARC1; P=Reject; RUA=MAILTO:x@example.com", want: DMARC{Policy: PolicyReject, RUA: []string{"MAILTO:x@example.com"}}, canon: "v=DMARC1; p=reject; rua=MAILTO:x@example.com"},
		{in: "v=DMARC1; rua=mailto:x@example.com; p=none", want: DMARC{Policy: PolicyNone, RUA: []string{"mailto:x@example.com"}},
			warnings: []string{"p= should come right after v=DMARC1 (RFC 7489 §6.3)"}, canon: "v=DMARC1; p=none; rua=mailto:x@example.com"},
		{in: "v=DMARC1; p=none; foo=bar; rf=iodef", want: DMARC{Policy: PolicyNone, ReportFormat: "iodef"},
			warnings: []string{"unknown tag foo= is ignored", `rf=: unknown report format "iodef" (only afrf is defined)`}, canon: "v=DMARC1; p=none; rf=iodef"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, warnings, err := ParseDMARC(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", warnings, tt.warnings)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.in
			}
			if got.String() != canon {
				t.Errorf("String() = %q, want %q", got, canon)
			}
			again, w, err := ParseDMARC(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip: %#v, %v", again, err)
			}
			if len(w) > 0 && tt.warnings == nil {
				t.Errorf("canonical form warns: %q", w)
			}
		})
	}
}

func TestParseDMARCErrors(t *testing.T) {
	tests := []struct {
		in, msg string
		err     error
	}{
		{"", "not a DMARC record", ErrNotDMARC},
		{"v=spf1 -all", "not a DMARC record", ErrNotDMARC},
		{"p=none; v=DMARC1", "not a DMARC record", ErrNotDMARC},
		{"v=DMARC2; p=none", "not a DMARC record", ErrNotDMARC},
		{"v=dmarc1; p=none", "not a DMARC record", ErrNotDMARC},
		{"v=DMARC1", "no p= tag", ErrDMARCSyntax},
		{"v=DMARC1; rua=mailto:x@example.com", "no p= tag", ErrDMARCSyntax},
		{"v=DMARC1; p=block", "p=block: the policy must be none, quarantine or reject", ErrDMARCSyntax},
		{"v=DMARC1; p=none; sp=", "sp=: the policy must be", ErrDMARCSyntax},
		{"v=DMARC1; p=none; pct=101", "pct=101: must be a whole number from 0 to 100", ErrDMARCSyntax},
		{"v=DMARC1; p=none; pct=-1", "pct=-1", ErrDMARCSyntax},
		{"v=DMARC1; p=none; pct=050", "pct=050", ErrDMARCSyntax},
		{"v=DMARC1; p=none; rua=dmarc@example.com", `"dmarc@example.com" is not a mailto: address`, ErrDMARCSyntax},
		{"v=DMARC1; p=none; rua=https://example.com/dmarc", "is not a mailto: address", ErrDMARCSyntax},
		{"v=DMARC1; p=none; ruf=mailto:x@example.com,mailto:bad", `"mailto:bad" is not a mailto: address`, ErrDMARCSyntax},
		{"v=DMARC1; p=none; rua=mailto:x@example.com!10q", "is not a mailto: address", ErrDMARCSyntax},
		{"v=DMARC1; p=none; rua=", "rua= is empty", ErrDMARCSyntax},
		{"v=DMARC1; p=none; adkim=x", "adkim=x: alignment must be r (relaxed) or s (strict)", ErrDMARCSyntax},
		{"v=DMARC1; p=none; aspf=relaxed", "aspf=relaxed", ErrDMARCSyntax},
		{"v=DMARC1; p=none; fo=2", "fo=2: options are 0, 1, d and s", ErrDMARCSyntax},
		{"v=DMARC1; p=none; ri=day", "ri=day: must be a number of seconds", ErrDMARCSyntax},
		{"v=DMARC1; p=none; p=reject", "tag p= appears more than once", ErrDMARCSyntax},
		{"v=DMARC1; p=none; v=DMARC1", "appears more than once", ErrDMARCSyntax},
		{"v=DMARC1; p=none; junk", `"junk" is not tag=value`, ErrDMARCSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, _, err := ParseDMARC(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v is not %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestMailtoAddress(t *testing.T) {
	for in, want := range map[string]string{
		"mailto:dmarc@example.com":         "dmarc@example.com",
		"mailto:d@reports.example.net!10m": "d@reports.example.net",
		" MAILTO:x@example.org ":           "x@example.org",
		"dmarc@example.com":                "",
		"https://example.com":              "",
	} {
		if got := MailtoAddress(in); got != want {
			t.Errorf("MailtoAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
