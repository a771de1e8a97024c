package tui

import (
	"charm.land/huh/v2"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/publish"
)

// dnsGroup asks where the domains' DNS is hosted.
func dnsGroup(d *draft) *huh.Group {
	return huh.NewGroup(
		d.choose("DNS provider", "Where the domains' DNS is hosted. The next screens show the records in the form it takes, to paste; with Cloudflare or RFC 2136 the wizard can also publish them. The choice is saved in the answers.", &d.Provider,
			huh.NewOption("Manual (zone file or web interface)", answers.ProviderManual),
			huh.NewOption("Cloudflare", answers.ProviderCloudflare),
			huh.NewOption("RFC 2136 dynamic update (BIND, Knot, PowerDNS)", answers.ProviderRFC2136),
		),
	).Title("DNS")
}

// dnsAccessGroup asks how to reach the chosen provider: Cloudflare's token
// file, or the RFC 2136 primary and its TSIG key file. Secrets stay in
// their files (or the environment): the wizard never asks for them.
func dnsAccessGroup(d *draft) *huh.Group {
	if d.Provider == answers.ProviderCloudflare {
		return huh.NewGroup(
			d.optional("API token file", "A file holding a Cloudflare API token with the Zone:Read and DNS:Edit permissions; empty: the "+publish.CloudflareTokenEnv+" environment variable. The token itself is never asked for here or saved.", &d.TokenFile, validTokenFile),
		).Title("Cloudflare")
	}
	return huh.NewGroup(
		d.input("Primary server", "ADDR[:PORT] of the server that takes dynamic updates for the zones (port 53 unless given).", &d.DNSServer, validDNSServer),
		d.input("TSIG key file", "The key updates are signed with: a BIND key file (tsig-keygen) or one line algorithm:name:secret. Read when pushing, never shown; a relative path is relative to the answers file.", &d.TSIGFile, validTSIGFile),
	).Title("RFC 2136 dynamic update")
}
