package dnscheck

import (
	"crypto"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sendready/sendready/answers"
)

// CommonSelectors are the DKIM selectors probed when none is given: the
// names mail software and providers use by default, plus this and last
// month's YYYYMM (sendready's default).
func CommonSelectors(now time.Time) []string {
	now = now.UTC()
	cur := now.Format("200601")
	prev := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("200601")
	return []string{"default", "mail", "dkim", "s1", "selector1", "selector2", "google", "k1", cur, prev}
}

// FromAnswers builds the expectations of every domain in validated answers
// (defaults applied). keys holds public keys by Signer.KeyName(), from the
// bundle's private keys or the answers' public_key; a signer without a key
// is checked for a valid record only.
func FromAnswers(a *answers.Answers, keys map[string]crypto.PublicKey) []Expect {
	var ips []netip.Addr
	ips = append(ips, a.IPv4Addrs()...)
	ips = append(ips, a.IPv6Addrs()...)
	var out []Expect
	for _, d := range a.Domains {
		e := Expect{
			Domain:   d.Name,
			Hostname: a.Server.Hostname,
			IPs:      ips,
			MX:       a.MXHosts(d),
		}
		if a.Relay.IsOffice365() {
			e.SPFIncludes = append(e.SPFIncludes, answers.Office365SPFInclude)
		}
		extra := d.SPF
		if a.Relay.Mode == answers.ModeSmarthost {
			extra = append(append([]string{}, a.Relay.Smarthost.SPF...), extra...)
		}
		for _, m := range extra {
			if inc, ok := strings.CutPrefix(strings.TrimLeft(m, "+-~?"), "include:"); ok {
				e.SPFIncludes = append(e.SPFIncludes, inc)
			}
		}
		for _, s := range d.Signers() {
			e.Selectors = append(e.Selectors, Selector{Name: s.Selector, Key: keys[s.KeyName()]})
		}
		out = append(out, e)
	}
	return out
}

// Flags is what `check --domain` knows of a domain without an answers file.
type Flags struct {
	Domains   []string
	Hostname  string
	IPs       []netip.Addr
	MX        []string
	Selectors []string
	// Keys pairs with Selectors in order (fewer keys than selectors: the
	// rest are checked for a valid record only).
	Keys      []crypto.PublicKey
	Office365 bool
}

// FromFlags builds expectations for domains audited without answers. With no
// selectors the common ones are probed.
func FromFlags(f Flags, now time.Time) ([]Expect, error) {
	if len(f.Keys) > len(f.Selectors) {
		return nil, fmt.Errorf("%d --dkim-key but %d --selector: give one --selector per key, in the same order", len(f.Keys), len(f.Selectors))
	}
	var out []Expect
	for _, dom := range f.Domains {
		dom = strings.TrimSuffix(strings.ToLower(dom), ".")
		e := Expect{Domain: dom, Hostname: strings.TrimSuffix(strings.ToLower(f.Hostname), "."), IPs: f.IPs}
		for _, mx := range f.MX {
			e.MX = append(e.MX, strings.TrimSuffix(strings.ToLower(mx), "."))
		}
		if f.Office365 {
			if len(e.MX) == 0 {
				e.MX = []string{answers.Office365SmartHost(dom)}
			}
			e.SPFIncludes = []string{answers.Office365SPFInclude}
		}
		if len(f.Selectors) == 0 {
			for _, s := range CommonSelectors(now) {
				e.Selectors = append(e.Selectors, Selector{Name: s, Probe: true})
			}
		}
		for i, s := range f.Selectors {
			sel := Selector{Name: s}
			if i < len(f.Keys) {
				sel.Key = f.Keys[i]
			}
			e.Selectors = append(e.Selectors, sel)
		}
		out = append(out, e)
	}
	return out, nil
}
