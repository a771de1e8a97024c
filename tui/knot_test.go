package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/internal/testdaemons"
)

// startKnot serves an empty example.test, taking updates signed with a
// new key, and the reverse zone with the sending address's PTR.
func startKnot(t *testing.T) (*testdaemons.Knot, testdaemons.TSIGKey) {
	t.Helper()
	testdaemons.Require(t, "knotd", "knotc")
	key := testdaemons.NewTSIGKey(t, "sendready-tui")
	knot := testdaemons.StartKnotWith(t, map[string]string{
		"example.test":           "$ORIGIN example.test.\n",
		"113.0.203.in-addr.arpa": "$ORIGIN 113.0.203.in-addr.arpa.\n10 300 IN PTR mail.example.test.\n",
	}, testdaemons.KnotOptions{TSIG: key})
	return knot, key
}

// wantInKnot fails unless the server at addr answers name and type with a
// record whose data contains value.
func wantInKnot(t *testing.T, addr, name, typ, value string) {
	t.Helper()
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.StringToType[typ])
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", name, typ, addr, err)
	}
	var got []string
	for _, rr := range r.Answer {
		s := strings.TrimPrefix(rr.String(), rr.Header().String())
		got = append(got, s)
		if strings.Contains(strings.ReplaceAll(s, `" "`, ""), value) {
			return
		}
	}
	t.Errorf("%s %s in Knot: %q, want %q", name, typ, got, value)
}
