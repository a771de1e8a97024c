package dnscheck

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// checkMX compares the domain's MX set with Expect.MX.
func (ev *evaluation) checkMX() Result {
	var want []string
	for _, m := range ev.exp.MX {
		want = append(want, bare(m))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	expected := strings.Join(want, ", ")
	if expected == "" {
		expected = "an MX record"
	}
	fixRecs := func() string {
		var recs []records.Record
		for i, h := range want {
			recs = append(recs, records.Record{Name: ev.domain, Type: records.TypeMX, Priority: uint16(10 * (i + 1)), Value: fqdn(h)})
		}
		if len(recs) == 0 {
			return fmt.Sprintf("publish an MX record naming your mail server: %s", records.Record{Name: ev.domain, Type: records.TypeMX, TTL: fixTTL, Priority: 10, Value: "mail." + ev.domain}.ZoneLine(""))
		}
		return zoneLines(recs...)
	}
	o := ev.propagate(ev.snapshots([]Query{{ev.domain, dns.TypeMX}}, nil), look{
		key:  CheckMX + "|" + ev.domain,
		what: "the MX records of " + bare(ev.domain),
		norm: strings.ToLower,
		judge: func(vals []string) verdict {
			hosts := mxHosts(vals)
			if len(vals) == 0 {
				return verdict{StatusFail, fmt.Sprintf("%s has no MX record", bare(ev.domain)), fixRecs()}
			}
			if len(hosts) == 1 && hosts[0] == "" {
				return verdict{StatusFail, fmt.Sprintf("%s publishes a null MX (\"0 .\"): it accepts no mail", bare(ev.domain)), fixRecs()}
			}
			if len(want) == 0 {
				return verdict{StatusPass, "MX " + strings.Join(vals, ", "), ""}
			}
			if slices.Equal(hosts, want) {
				return verdict{StatusPass, "MX " + strings.Join(vals, ", "), ""}
			}
			missing, extra := diff(want, hosts)
			var parts []string
			parts = append(parts, "MX is "+strings.Join(vals, ", "))
			if len(missing) > 0 {
				parts = append(parts, "missing "+strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				parts = append(parts, "extra "+strings.Join(extra, ", "))
			}
			return verdict{StatusFail, strings.Join(parts, "; "), fixRecs()}
		},
		line: func(vals []string) string {
			var recs []records.Record
			for _, v := range vals {
				p, h, _ := strings.Cut(v, " ")
				pref, _ := strconv.Atoi(p)
				recs = append(recs, records.Record{Name: ev.domain, Type: records.TypeMX, Priority: uint16(pref), Value: h})
			}
			return zoneLines(recs...)
		},
	})
	return o.result(CheckMX, ev.domain, "MX", expected)
}

// mxHosts returns the exchanges of "pref host." values, bare and sorted.
func mxHosts(vals []string) []string {
	var out []string
	for _, v := range vals {
		if _, h, ok := strings.Cut(v, " "); ok {
			out = append(out, bare(h))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
