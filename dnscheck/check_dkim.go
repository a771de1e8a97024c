package dnscheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// DKIM key sizes (RFC 8301 §3.2: at least 1024 bits, 2048 recommended).
const (
	minRSABits  = 1024
	goodRSABits = 2048
)

// checkDKIM checks each selector's key record. Probe selectors that no
// server knows give no result; when no selector is found at all, one
// failing result lists those probed.
func (ev *evaluation) checkDKIM() []Result {
	if len(ev.exp.Selectors) == 0 {
		return []Result{skipped(CheckDKIM, "_domainkey."+ev.domain, "TXT", "no DKIM selector given")}
	}
	var out []Result
	var probed, troubled []string
	for _, sel := range ev.exp.Selectors {
		name := dkimName(sel.Name, ev.domain)
		snaps := ev.snapshots([]Query{{name, dns.TypeTXT}}, ev.followCNAME)
		if sel.Probe {
			found := false
			for _, s := range snaps {
				if len(s.values) > 0 {
					found = true
				}
				if s.err != "" && !slices.Contains(troubled, serverLabel(s.server)) {
					troubled = append(troubled, serverLabel(s.server))
				}
			}
			if !found {
				probed = append(probed, sel.Name)
				continue
			}
		}
		out = append(out, ev.dkimResult(sel, name, snaps))
	}
	if len(out) == 0 {
		detail := fmt.Sprintf("no DKIM key found for selectors %s", strings.Join(probed, ", "))
		if len(troubled) > 0 {
			detail += fmt.Sprintf(" (no answer from %s)", strings.Join(troubled, ", "))
		}
		example := records.Record{Name: dkimName("SELECTOR", ev.domain), Type: records.TypeTXT, TTL: fixTTL, Value: "v=DKIM1; k=rsa; p=<base64 public key>"}
		out = append(out, Result{ID: CheckDKIM, Name: "_domainkey." + ev.domain, Type: "TXT", Status: StatusFail,
			Expected: "a DKIM key record", Detail: detail,
			Fix: "publish the key your mail system signs with, at its selector: " + example.ZoneLine("")})
	}
	return out
}

// followCNAME reads a response, and when its CNAME chain ends at a target
// whose records are not in the answer (an authoritative server of another
// zone, as Office 365's selector1._domainkey CNAMEs), looks the target up
// through the resolvers.
func (ev *evaluation) followCNAME(r Response) answer {
	a := readAnswer(r)
	for depth := 0; a.target != "" && depth < 8; depth++ {
		f := ev.lookup(a.target, r.Query.Type)
		if why := failed(f); why != "" {
			// Leave the values empty: the judge then reports the
			// target as missing, and the via chain names it.
			a.target = ""
			break
		}
		b := readAnswer(f)
		a.values, a.recs, a.target = b.values, b.recs, b.target
		a.via = append(a.via, b.via...)
		if len(b.values) > 0 {
			a.ttl = min(a.ttl, b.ttl)
		}
	}
	return a
}

func (ev *evaluation) dkimResult(sel Selector, name string, snaps []snapshot) Result {
	expected := "a valid DKIM key record"
	var wantRec *records.DKIM
	if sel.Key != nil {
		expected = "the DKIM key of the bundle"
		if d, err := records.NewDKIM(sel.Key); err == nil {
			wantRec = &d
			expected = d.String()
		}
	}
	fixWith := func(d records.DKIM) string {
		return zoneLines(records.Record{Name: name, Type: records.TypeTXT, Value: d.String()})
	}
	wantFix := "publish the public key your mail system signs with for selector " + sel.Name + ": " +
		zoneLines(records.Record{Name: name, Type: records.TypeTXT, Value: "v=DKIM1; k=rsa; p=<base64 public key>"})
	if wantRec != nil {
		wantFix = fixWith(*wantRec)
	}
	via := ""
	for _, s := range snaps {
		if len(s.via) > 0 {
			via = " via CNAME " + strings.Join(s.via, " → ")
			break
		}
	}
	judge := func(vals []string) verdict {
		switch {
		case len(vals) == 0:
			return verdict{StatusFail, "DKIM record missing" + via, wantFix}
		case len(vals) > 1:
			return verdict{StatusFail, fmt.Sprintf("%d TXT records at %s: verifiers need exactly one", len(vals), bare(name)), wantFix}
		}
		d, err := records.ParseDKIM(vals[0])
		if err != nil {
			return verdict{StatusFail, fmt.Sprintf("DKIM record does not parse: %v", err), wantFix}
		}
		if d.Revoked() {
			return verdict{StatusFail, "DKIM key revoked (empty p=)", wantFix}
		}
		pub, err := d.PublicKey()
		if err != nil {
			return verdict{StatusFail, fmt.Sprintf("DKIM key unusable: %v", err), wantFix}
		}
		if sel.Key != nil && !records.KeysEqual(pub, sel.Key) {
			return verdict{StatusFail, "DKIM key differs from the one the mail server signs with", wantFix}
		}
		var warns []string
		bits := d.RSABits()
		switch {
		case d.KeyType == records.KeyRSA && bits < minRSABits:
			return verdict{StatusFail, fmt.Sprintf("RSA key of %d bits: verifiers reject keys below %d (RFC 8301)", bits, minRSABits), "generate a 2048-bit key and publish it: " + wantFix}
		case d.KeyType == records.KeyRSA && bits < goodRSABits:
			warns = append(warns, fmt.Sprintf("RSA key of %d bits: use %d (RFC 8301)", bits, goodRSABits))
		}
		fix := ""
		if d.Testing() {
			warns = append(warns, "t=y: the key is in testing mode, verifiers treat signatures as unsigned")
			nd := d
			nd.Flags = slices.DeleteFunc(slices.Clone(d.Flags), func(f string) bool { return f == "y" })
			fix = fixWith(nd)
		}
		desc := fmt.Sprintf("%s key", d.KeyType)
		if bits > 0 {
			desc = fmt.Sprintf("RSA %d-bit key", bits)
		}
		if sel.Key != nil {
			desc += " matching the bundle"
		}
		desc += via
		if len(warns) > 0 {
			return verdict{StatusWarn, strings.Join(warns, "; ") + " (" + desc + ")", fix}
		}
		return verdict{StatusPass, desc, ""}
	}
	o := ev.propagate(snaps, look{
		key:   CheckDKIM + "|" + ev.domain + "|" + sel.Name,
		what:  "the DKIM record " + bare(name),
		judge: judge,
		line:  txtLines(name),
	})
	r := o.result(CheckDKIM, name, "TXT", expected)
	r.Selector = sel.Name
	return r
}
