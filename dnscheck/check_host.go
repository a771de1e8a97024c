package dnscheck

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// expectedIPs returns exp's sending addresses as strings, sorted.
func (ev *evaluation) expectedIPs() []string {
	var out []string
	for _, ip := range ev.exp.IPs {
		out = append(out, ip.Unmap().String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// addrRecord is the A or AAAA record that publishes ip at name.
func addrRecord(name string, ip netip.Addr) records.Record {
	t := records.TypeA
	if ip.Unmap().Is6() {
		t = records.TypeAAAA
	}
	return records.Record{Name: fqdn(name), Type: t, TTL: fixTTL, Value: ip.Unmap().String()}
}

// hostQueries are the hostname's A and AAAA questions.
func (ev *evaluation) hostQueries() []Query {
	h := fqdn(ev.exp.Hostname)
	return []Query{{h, dns.TypeA}, {h, dns.TypeAAAA}}
}

// checkA compares the hostname's A/AAAA with the sending IPs.
func (ev *evaluation) checkA() Result {
	if ev.exp.Hostname == "" {
		return skipped(CheckA, "", "A/AAAA", "no mail server hostname given")
	}
	host := fqdn(ev.exp.Hostname)
	want := ev.expectedIPs()
	o := ev.hostAddrs()
	return o.result(CheckA, host, "A/AAAA", strings.Join(want, ", "))
}

// hostAddrs is the outcome of the hostname's A/AAAA, shared by a and ptr.
func (ev *evaluation) hostAddrs() outcome {
	host := fqdn(ev.exp.Hostname)
	want := ev.expectedIPs()
	var wantRecs []records.Record
	for _, ip := range ev.exp.IPs {
		wantRecs = append(wantRecs, addrRecord(host, ip))
	}
	return ev.propagate(ev.snapshots(ev.hostQueries(), nil), look{
		key:  CheckA + "|" + ev.domain,
		what: "the A/AAAA records of " + host,
		judge: func(vals []string) verdict {
			got := normIPs(vals)
			if slices.Equal(got, want) {
				return verdict{status: StatusPass, detail: fmt.Sprintf("%s has %s", bare(host), strings.Join(got, ", "))}
			}
			missing, extra := diff(want, got)
			var parts []string
			if len(got) == 0 {
				parts = append(parts, fmt.Sprintf("%s has no A/AAAA record", bare(host)))
			} else {
				parts = append(parts, fmt.Sprintf("%s has %s", bare(host), strings.Join(got, ", ")))
			}
			if len(missing) > 0 {
				parts = append(parts, "missing "+strings.Join(missing, ", "))
			}
			if len(extra) > 0 {
				parts = append(parts, "extra "+strings.Join(extra, ", "))
			}
			fix := zoneLines(wantRecs...)
			for _, e := range extra {
				if ip, err := netip.ParseAddr(e); err == nil {
					fix += "\n; delete: " + addrRecord(host, ip).ZoneLine("")
				}
			}
			return verdict{status: StatusFail, detail: strings.Join(parts, "; "), fix: fix}
		},
		line: func(vals []string) string {
			var recs []records.Record
			for _, v := range vals {
				if ip, err := netip.ParseAddr(v); err == nil {
					recs = append(recs, addrRecord(host, ip))
				}
			}
			return zoneLines(recs...)
		},
	})
}

// normIPs parses and sorts address strings.
func normIPs(vals []string) []string {
	var out []string
	for _, v := range vals {
		if ip, err := netip.ParseAddr(v); err == nil {
			out = append(out, ip.Unmap().String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// diff returns what want has that got lacks, and what got has on top.
func diff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// checkPTR checks each sending IP's PTR, forward-confirmed against the
// hostname's A/AAAA of the same round.
func (ev *evaluation) checkPTR() []Result {
	if ev.exp.Hostname == "" {
		return []Result{skipped(CheckPTR, "", "PTR", "no mail server hostname given")}
	}
	if len(ev.exp.IPs) == 0 {
		return []Result{skipped(CheckPTR, "", "PTR", "no sending IP given")}
	}
	host := fqdn(ev.exp.Hostname)
	fwd := ev.hostAddrs()
	forward := fwd.authVals
	if !fwd.agreed {
		// Fall back on what any server says, for the detail only: the
		// a check reports the disagreement.
		for _, ob := range fwd.obs {
			forward = append(forward, ob.Values...)
		}
	}
	forward = normIPs(forward)
	var out []Result
	for _, ip := range ev.exp.IPs {
		ip = ip.Unmap()
		name := records.ReverseName(ip)
		ptrRec := records.Record{Name: name, Type: records.TypePTR, TTL: fixTTL, Value: host}
		fixOwner := fmt.Sprintf("ask the owner of %s (your hosting/VPS provider; often a \"reverse DNS\" field in its control panel) to set: %s", ip, ptrRec.ZoneLine(""))
		o := ev.propagate(ev.snapshots([]Query{{name, dns.TypePTR}}, nil), look{
			key:  CheckPTR + "|" + ev.domain + "|" + ip.String(),
			what: "the PTR of " + ip.String(),
			norm: strings.ToLower,
			judge: func(vals []string) verdict {
				switch {
				case len(vals) == 0:
					return verdict{StatusFail, fmt.Sprintf("%s has no PTR record", ip), fixOwner}
				case len(vals) > 1:
					return verdict{StatusFail, fmt.Sprintf("%s has %d PTR records (%s); receivers want exactly one, %s", ip, len(vals), strings.Join(vals, ", "), host), fixOwner}
				case !sameName(vals[0], host):
					return verdict{StatusFail, fmt.Sprintf("PTR of %s is %s, expected %s", ip, vals[0], host), fixOwner}
				case !slices.Contains(forward, ip.String()):
					return verdict{StatusFail, fmt.Sprintf("PTR of %s is %s, but %s does not resolve back to %s (not forward-confirmed)", ip, host, bare(host), ip), zoneLines(addrRecord(host, ip))}
				}
				return verdict{StatusPass, fmt.Sprintf("%s → %s → %s (forward-confirmed)", ip, host, ip), ""}
			},
			line: func(vals []string) string {
				var recs []records.Record
				for _, v := range vals {
					recs = append(recs, records.Record{Name: name, Type: records.TypePTR, Value: v})
				}
				return zoneLines(recs...)
			},
		})
		if o.status != StatusPass && o.agreed && !o.verdict.ok() && strings.Contains(o.verdict.fix, "owner of") {
			o.detail += " — the owner of the IP must fix it"
		}
		r := o.result(CheckPTR, name, "PTR", bare(host))
		r.IP = ip.String()
		out = append(out, r)
	}
	return out
}
