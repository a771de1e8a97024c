package testdaemons

import (
	"crypto"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/sendready/sendready/records"
)

// WrapZone returns fragment with a test $ORIGIN, $TTL, SOA and NS added, so
// that it is a complete zone for origin (ns at 127.0.0.1).
//
// The SOA and NS come first with absolute names, then the fragment as is:
// a fragment may carry its own $ORIGIN/$TTL lines, which is fine in a zone
// file. The glue "ns1.<origin> A 127.0.0.1" is added only when the
// fragment does not define ns1 itself. Reverse zones (in-addr.arpa) work
// the same way. A fragment must not contain its own SOA.
func WrapZone(origin, fragment string) string {
	o := dns.Fqdn(origin)
	ns := "ns1." + o
	if o == "." {
		ns = "ns1."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n", o)
	fmt.Fprintf(&b, "%s SOA %s hostmaster.%s 1 3600 600 86400 300\n", o, ns, strings.TrimPrefix(o, "."))
	fmt.Fprintf(&b, "%s NS %s\n", o, ns)
	if !definesName(o, fragment, ns) {
		fmt.Fprintf(&b, "%s A 127.0.0.1\n", ns)
	}
	b.WriteString(fragment)
	if !strings.HasSuffix(fragment, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// definesName reports whether fragment, read with origin, has a record
// owned by name. Records after a syntax error are not seen; the zone
// checker reports the error anyway.
func definesName(origin, fragment, name string) bool {
	zp := dns.NewZoneParser(strings.NewReader("$TTL 300\n"+fragment), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// CheckZone runs named-checkzone on WrapZone(origin, fragment) and fails
// the test with its output when the zone is rejected.
func CheckZone(t testing.TB, origin, fragment string) {
	t.Helper()
	Require(t, "named-checkzone")
	if out, err := CheckZoneErr(origin, fragment); err != nil {
		t.Fatalf("testdaemons: named-checkzone rejected zone %s: %v\n%s\nzone:\n%s",
			origin, err, out, numbered(WrapZone(origin, fragment)))
	}
}

// CheckZoneErr runs named-checkzone on WrapZone(origin, fragment) and
// returns its output, with an error when the zone is rejected.
//
// Records outside origin count as a rejection (named-checkzone itself only
// warns). Integrity problems such as an MX target without an address stay
// warnings, as in named-checkzone.
//
// It runs with "-i local": the default integrity checks look up
// out-of-zone MX/SRV/NS targets through the system resolver, which is not
// on loopback here (and the test must not leave the machine).
func CheckZoneErr(origin, fragment string) (string, error) {
	bin, err := LookBin("named-checkzone")
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "sendready-zone-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(WrapZone(origin, fragment)); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	out, err := exec.Command(bin, "-i", "local", dns.Fqdn(origin), f.Name()).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("testdaemons: named-checkzone %s: %w", origin, err)
	}
	// Trap: named-checkzone only warns about records outside the zone
	// (a wrong $ORIGIN or a stray absolute name) and still says OK; such a
	// record would never be served, so it counts as a rejection here.
	if strings.Contains(string(out), "ignoring out-of-zone data") {
		return string(out), fmt.Errorf("testdaemons: named-checkzone %s: out-of-zone data", origin)
	}
	return string(out), nil
}

// numbered prefixes each line of s with its line number, for messages
// that quote a zone next to a checker's "line N" complaint.
func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, l)
	}
	return b.String()
}

// DKIMTXT is the zone-file TXT data (quoted strings of at most 255 bytes)
// of pub's DKIM key record, for publishing a test key in Knot.
func DKIMTXT(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	rec, err := records.NewDKIM(pub)
	if err != nil {
		t.Fatal(err)
	}
	return records.QuoteTXT(records.SplitTXT(rec.String()))
}
