package tui

import (
	"charm.land/huh/v2"

	"github.com/sendready/sendready/answers"
)

// dnsGroup asks where the domains' DNS is hosted.
func dnsGroup(d *draft) *huh.Group {
	return huh.NewGroup(
		d.choose("DNS provider", "Where the domains' DNS is hosted. The next screens show the records in the form it takes, to paste; the choice is saved in the answers.", &d.Provider,
			huh.NewOption("Manual (zone file or web interface)", answers.ProviderManual),
			huh.NewOption("Cloudflare", answers.ProviderCloudflare),
			huh.NewOption("RFC 2136 dynamic update (BIND, Knot, PowerDNS)", answers.ProviderRFC2136),
		),
	).Title("DNS")
}
