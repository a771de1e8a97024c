package dnscheck

import (
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/records"
)

// Plan lists the queries a round needs for exps, without duplicates, in
// the order they are first needed: for each expectation the hostname's A
// and AAAA, the PTR of each sending IP, MX and TXT at the domain, the DKIM
// TXT of every selector (probes included), _dmarc TXT (and the
// organizational domain's when the domain has three labels or more), SOA
// at the domain, and the TXT of the expected SPF includes (a prefetch: the
// SPF check follows them anyway).
func Plan(exps []Expect) []Query {
	var out []Query
	seen := map[Query]bool{}
	add := func(name string, t uint16) {
		if name == "" || name == "." {
			return
		}
		q := Query{Name: fqdn(name), Type: t}
		if !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	for _, e := range exps {
		d := fqdn(e.Domain)
		if e.Hostname != "" {
			add(e.Hostname, dns.TypeA)
			add(e.Hostname, dns.TypeAAAA)
			for _, ip := range e.IPs {
				add(records.ReverseName(ip), dns.TypePTR)
			}
		}
		add(d, dns.TypeMX)
		add(d, dns.TypeTXT)
		for _, s := range e.Selectors {
			add(dkimName(s.Name, d), dns.TypeTXT)
		}
		add("_dmarc."+d, dns.TypeTXT)
		if org := lastTwoLabels(d); org != d {
			add("_dmarc."+org, dns.TypeTXT)
		}
		add(d, dns.TypeSOA)
		for _, inc := range e.SPFIncludes {
			add(inc, dns.TypeTXT)
		}
	}
	return out
}

// fqdn lower-cases name and gives it exactly one trailing dot.
func fqdn(name string) string {
	return dns.Fqdn(strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), ".")))
}

// bare is name without its trailing dot, lower-cased.
func bare(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// sameName compares domain names case-insensitively, trailing dot ignored.
func sameName(a, b string) bool { return strings.EqualFold(bare(a), bare(b)) }

// dkimName is the owner of a selector's key record.
func dkimName(selector, domain string) string {
	return fqdn(selector + "._domainkey." + bare(domain))
}

// lastTwoLabels is the fallback organizational domain: the last two
// labels of name ("mail.example.com." gives "example.com."). Without a
// public-suffix list it is wrong under multi-label suffixes such as co.uk;
// orgDomain prefers the zone apex when the responses show it.
func lastTwoLabels(name string) string {
	labels := dns.SplitDomainName(fqdn(name))
	if len(labels) <= 2 {
		return fqdn(name)
	}
	return fqdn(strings.Join(labels[len(labels)-2:], "."))
}

// isSubdomainOf reports whether name equals parent or lies below it.
func isSubdomainOf(name, parent string) bool {
	return dns.IsSubDomain(fqdn(parent), fqdn(name))
}
