package tui

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/sendready/sendready/detect"
)

// welcomeView shows detection running, then what it found.
func (m *model) welcomeView() string {
	if !m.detected {
		return m.spin.View() + " Looking at this machine…"
	}
	var b strings.Builder
	b.WriteString("This wizard sets up DKIM, SPF and DMARC for Postfix: it asks a few\nquestions, writes a bundle to install, and checks DNS until it is right.\n\n")
	b.WriteString(foundText(m.det))
	if m.opts.Answers != nil {
		fmt.Fprintf(&b, "\nEvery question starts with the answers from %s.\n", m.opts.AnswersPath)
	}
	b.WriteString("\nEvery answer is pre-filled: Enter accepts it, Esc goes back.")
	return b.String()
}

// foundText lists what detection found, for both modes.
func foundText(r detect.Result) string {
	var b strings.Builder
	row := func(k, v string) {
		if v == "" {
			v = "(not found)"
		}
		fmt.Fprintf(&b, "  %-16s %s\n", k, v)
	}
	b.WriteString("Found on this machine:\n")
	row("Host name", r.Hostname)
	row("Public addresses", addrList(append(slices.Clone(r.PublicIPv4), r.PublicIPv6...)))
	var private []netip.Addr
	for _, ip := range append(slices.Clone(r.IPv4), r.IPv6...) {
		if !detect.IsPublic(ip) {
			private = append(private, ip)
		}
	}
	if len(private) > 0 {
		row("Other addresses", addrList(private))
	}
	distro := r.DistroName
	if r.Distro != "" {
		distro += " (" + r.Distro + " layout)"
	}
	row("Distribution", strings.TrimSpace(distro))
	row("Postfix", r.Postfix)
	row("OpenDKIM", r.OpenDKIM)
	if len(r.DKIMKeys) > 0 {
		var keys []string
		for k := range r.DKIMKeys {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		row("DKIM keys", strings.Join(keys, ", "))
	}
	for _, n := range r.Notes {
		b.WriteString("\n! " + n + "\n")
	}
	return b.String()
}

func addrList(ips []netip.Addr) string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return strings.Join(s, ", ")
}
