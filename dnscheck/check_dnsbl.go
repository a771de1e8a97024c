package dnscheck

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// DNSBLs are the blocklists the dnsbl check asks.
var DNSBLs = []string{"zen.spamhaus.org", "bl.spamcop.net"}

// refusedNet holds the answers a blocklist gives instead of a listing
// when it refuses the query (Spamhaus: 127.255.255.252-255 for public
// resolvers, unregistered use and rate limits).
var refusedNet = netip.MustParsePrefix("127.255.255.0/24")

// checkDNSBL looks each sending IPv4 address up in the blocklists through
// the resolvers (follow-up lookups: a plan's authoritative queries would
// be pointless).
func (ev *evaluation) checkDNSBL() Result {
	res := Result{ID: CheckDNSBL, Name: strings.Join(DNSBLs, ", "), Type: "A", Expected: "not listed", Observations: []Observation{}}
	if !ev.exp.DNSBL {
		res.Status, res.Detail = StatusSkipped, "blocklist check not asked for"
		return res
	}
	var v4 []netip.Addr
	for _, ip := range ev.exp.IPs {
		if ip.Unmap().Is4() {
			v4 = append(v4, ip.Unmap())
		}
	}
	if len(v4) == 0 {
		res.Status, res.Detail = StatusSkipped, "no IPv4 sending address"
		return res
	}
	res.Status = StatusPass
	var listed, refused, failedQ, clean []string
	for _, ip := range v4 {
		rev := strings.TrimSuffix(records.ReverseName(ip), "in-addr.arpa.")
		for _, bl := range DNSBLs {
			name := rev + bl + "."
			r := ev.lookup(name, dns.TypeA)
			a := readAnswer(r)
			ob := Observation{Server: serverLabel(r.Server), Kind: Recursive, Rcode: r.Condition(), Values: append([]string{name}, a.values...), TTL: a.ttl, Status: StatusPass}
			if why := failed(r); why != "" {
				ob.Error, ob.Status = why, StatusError
				failedQ = append(failedQ, fmt.Sprintf("%s at %s (%s)", ip, bl, why))
				res.Observations = append(res.Observations, ob)
				continue
			}
			var codes, refusals []string
			for _, v := range a.values {
				if x, err := netip.ParseAddr(v); err == nil && refusedNet.Contains(x) {
					refusals = append(refusals, v)
				} else {
					codes = append(codes, v)
				}
			}
			switch {
			case len(refusals) > 0 && len(codes) == 0:
				ob.Status = StatusError
				refused = append(refused, fmt.Sprintf("%s refused the query for %s (%s: it blocks public or unregistered resolvers)", bl, ip, strings.Join(refusals, ", ")))
			case len(codes) > 0:
				ob.Status = StatusFail
				listed = append(listed, fmt.Sprintf("%s listed on %s (%s)", ip, bl, strings.Join(codes, ", ")))
			default:
				clean = append(clean, fmt.Sprintf("%s on %s", ip, bl))
			}
			res.Observations = append(res.Observations, ob)
		}
	}
	var parts []string
	if len(listed) > 0 {
		res.Status = StatusWarn
		parts = append(parts, strings.Join(listed, "; "))
		res.Fix = "find why on the list's lookup page (https://check.spamhaus.org/, https://www.spamcop.net/bl.shtml), stop the cause, then request delisting"
	}
	if len(refused) > 0 {
		res.Status = Worse(res.Status, StatusWarn)
		parts = append(parts, strings.Join(refused, "; ")+" — not a listing")
		if res.Fix == "" {
			res.Fix = "run the check with --resolver pointing at your own recursive resolver (not a public one) to get a real answer"
		}
	}
	if len(failedQ) > 0 {
		res.Status = Worse(res.Status, StatusWarn)
		parts = append(parts, "no answer for "+strings.Join(failedQ, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, "not listed: "+strings.Join(clean, ", "))
	}
	res.Detail = strings.Join(parts, "; ")
	return res
}
