package dnscheck

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// checkNS checks that the zone's authoritative servers all answer and
// agree on the SOA serial. A server behind on the serial is pending for
// the zone's refresh interval after the higher serial was first seen,
// then fails.
func (ev *evaluation) checkNS() Result {
	type soaView struct {
		s   snapshot
		soa *dns.SOA
	}
	var views []soaView
	var obs []Observation
	var errs []string
	for _, r := range ev.rs.Get(Query{ev.domain, dns.TypeSOA}) {
		if r.Server.Kind != Authoritative {
			continue
		}
		ob := Observation{Server: serverLabel(r.Server), Kind: r.Server.Kind, Rcode: r.Condition(), Values: []string{}, Status: StatusPass}
		if why := failed(r); why != "" {
			ob.Error, ob.Status = why, StatusError
			obs = append(obs, ob)
			errs = append(errs, fmt.Sprintf("%s (%s)", serverLabel(r.Server), why))
			continue
		}
		var soa *dns.SOA
		for _, rr := range append(slicesClone(r.Answer), r.Ns...) {
			if s, ok := rr.(*dns.SOA); ok && isSubdomainOf(ev.domain, s.Hdr.Name) {
				soa = s
				break
			}
		}
		if soa == nil {
			ob.Error, ob.Status = "no SOA in the answer or authority section", StatusError
			obs = append(obs, ob)
			errs = append(errs, fmt.Sprintf("%s (no SOA)", serverLabel(r.Server)))
			continue
		}
		ob.Values = []string{records.FromRR(soa).Value}
		ob.TTL = soa.Hdr.Ttl
		obs = append(obs, ob)
		views = append(views, soaView{snapshot{server: r.Server}, soa})
	}
	res := Result{ID: CheckNS, Name: ev.domain, Type: "SOA", Expected: "every authoritative server answers with the same SOA serial", Observations: obs}
	if len(obs) == 0 {
		res.Status, res.Detail = StatusFail, "no authoritative server answered for "+bare(ev.domain)
		res.Fix = "check the NS records at the registrar and that the name servers serve the zone"
		return res
	}
	apex := ev.domain
	if len(views) > 0 {
		apex = fqdn(views[0].soa.Hdr.Name)
		res.Name = apex
	}
	// The highest serial (RFC 1982 arithmetic) and who lags behind it.
	var high uint32
	for i, v := range views {
		if i == 0 || serialLess(high, v.soa.Serial) {
			high = v.soa.Serial
		}
	}
	var behind []string
	var refresh uint32
	for _, v := range views {
		if v.soa.Serial != high {
			behind = append(behind, fmt.Sprintf("%s has serial %d", serverLabel(v.s.server), v.soa.Serial))
			obs[slices.IndexFunc(obs, func(o Observation) bool { return o.Server == serverLabel(v.s.server) })].Status = StatusPending
		} else {
			refresh = max(refresh, v.soa.Refresh)
		}
	}
	res.Status = StatusPass
	var parts []string
	if len(errs) > 0 {
		res.Status = StatusFail
		parts = append(parts, "no answer from "+strings.Join(errs, ", "))
		res.Fix = "make every authoritative server of the zone answer (check it runs, is reachable on UDP and TCP port 53, and serves the zone), or remove it from the NS set"
	}
	if len(behind) > 0 {
		first := ev.tr.firstSeen(CheckNS+"|"+apex, fmt.Sprint(high), ev.now)
		deadline := first.Add(time.Duration(refresh) * time.Second)
		if ev.now.Before(deadline) {
			res.Status = Worse(res.Status, StatusPending)
			secs := max(1, int(deadline.Sub(ev.now).Round(time.Second)/time.Second))
			res.ETASeconds = &secs
			parts = append(parts, fmt.Sprintf("serial %d not yet everywhere (%s); secondaries refresh within ≈ %s", high, strings.Join(behind, ", "), time.Duration(secs)*time.Second))
		} else {
			res.Status = StatusFail
			for i := range obs {
				if obs[i].Status == StatusPending {
					obs[i].Status = StatusFail
				}
			}
			parts = append(parts, fmt.Sprintf("serial %d first seen %s ago, past the refresh interval of %ds, but %s", high, ev.now.Sub(first).Round(time.Second), refresh, strings.Join(behind, ", ")))
			if res.Fix == "" {
				res.Fix = "the lagging servers do not transfer the zone: check NOTIFY and AXFR/IXFR from the primary (allow-transfer, firewall on TCP 53) or reload the zone there"
			}
		}
	} else if len(views) > 0 {
		ev.tr.forget(CheckNS + "|" + apex)
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("serial %d on all %d authoritative servers", high, len(views)))
	}
	res.Detail = strings.Join(parts, "; ")
	return res
}

// serialLess compares SOA serials with RFC 1982 sequence arithmetic.
func serialLess(a, b uint32) bool { return a != b && int32(b-a) > 0 }
