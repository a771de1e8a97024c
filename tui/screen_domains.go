package tui

import (
	"fmt"

	"charm.land/huh/v2"

	"github.com/sendready/sendready/answers"
)

// domainsGroup asks for the domains and whether to take the recommended
// DKIM and DMARC settings for all of them.
func domainsGroup(d *draft) *huh.Group {
	if d.Domains == "" {
		// The host name may have been typed on the previous page.
		d.Domains = parentDomain(d.Hostname)
	}
	sel := d.now.UTC().Format("200601")
	return huh.NewGroup(
		d.input("Domains", "The domains this server sends mail for, comma-separated, like example.com, example.org.", &d.Domains, validDomainList),
		d.choose("DKIM and DMARC", "Recommended: selector "+sel+", RSA 2048, DMARC p=none with reports to dmarc@<domain>.", &d.Settings,
			huh.NewOption("Recommended for every domain", settingsRecommended),
			huh.NewOption("Choose per domain", settingsCustom),
		),
	).Title("Domains")
}

// domainGroup asks for the i-th domain's DKIM and DMARC settings.
func domainGroup(d *draft, i int) *huh.Group {
	name, dd := d.domain(i)
	return huh.NewGroup(
		d.input("DKIM selector", "The key's name: <selector>._domainkey."+name+".", &dd.Selector, validSelector),
		d.choose("DKIM algorithm", "Both adds an ed25519 key (<selector>-ed); some receivers don't verify it.", &dd.Algorithm,
			huh.NewOption("RSA 2048 (recommended)", answers.AlgRSA),
			huh.NewOption("RSA 2048 + ed25519 (both)", answers.AlgBoth),
		),
		d.choose("DMARC policy", "Start with none; once the reports show all mail passing: quarantine, reject.", &dd.Policy,
			huh.NewOption("none: monitor only", "none"),
			huh.NewOption("quarantine: failing mail goes to spam", "quarantine"),
			huh.NewOption("reject: failing mail is refused", "reject"),
		),
		d.optional("DMARC reports (rua)", "Where receivers send daily reports (mailto:, comma-separated); empty: none.", &dd.RUA, ruaValidator(name)),
	).Title(fmt.Sprintf("Domain %s (%d of %d)", name, i+1, len(d.domainNames())))
}
