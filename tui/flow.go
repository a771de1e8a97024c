package tui

import (
	"regexp"
	"strconv"
	"strings"

	"charm.land/huh/v2"

	"github.com/sendready/sendready/answers"
)

// state is the wizard's screen.
type state int

const (
	stateDetect    state = iota // detection running
	stateWelcome                // what was found
	stateServer                 // host name, addresses
	stateDomains                // domain list, recommended settings or not
	stateDomain                 // one domain's DKIM and DMARC (page.i)
	stateTopology               // relay mode, upstream
	stateRelay                  // the chosen relay's settings
	stateCert                   // connector certificate
	stateUpstream               // upstream networks
	stateDNS                    // DNS provider
	stateDNSAccess              // the provider's settings (token file; server and TSIG key)
	stateReview                 // every answer and file; confirm
	stateGenerate               // writing the bundle
	stateFailed                 // generation failed
	stateRecords                // records to publish
	statePublish                // plan and push through the provider
	stateMigrate                // the Office 365 migration checklist
	stateDashboard              // live checks
	stateSummary                // the end
)

// page is a screen, with the domain index for stateDomain.
type page struct {
	s state
	i int
}

// isForm reports whether the page is a huh form.
func (p page) isForm() bool { return p.s >= stateServer && p.s <= stateDNSAccess }

// publishes reports whether provider publishes through an API: the wizard
// then plans and pushes the records itself.
func publishes(provider string) bool {
	return provider == answers.ProviderCloudflare || provider == answers.ProviderRFC2136
}

// step numbers the screens for the header: the nine steps, plus
// Publish when the provider has an API and the Office 365 checklist in
// the Office 365 modes, before the live checks (always the last).
func (d *draft) step(p page) (n, total int, name string) {
	d.mu.Lock()
	o365 := d.Mode == answers.ModeOffice365Connect || d.Mode == answers.ModeOffice365SMTPAuth
	d.mu.Unlock()
	pub := publishes(d.Provider)
	total = 9
	if pub {
		total++
	}
	if o365 {
		total++
	}
	switch p.s {
	case stateDetect, stateWelcome:
		return 1, total, "Welcome"
	case stateServer:
		return 2, total, "Server"
	case stateDomains, stateDomain:
		return 3, total, "Domains"
	case stateTopology, stateRelay, stateCert, stateUpstream:
		return 4, total, "Topology"
	case stateDNS, stateDNSAccess:
		return 5, total, "DNS provider"
	case stateReview:
		return 6, total, "Review"
	case stateGenerate, stateFailed:
		return 7, total, "Generate"
	case stateRecords:
		return 8, total, "DNS records"
	case statePublish:
		return 9, total, "Publish"
	case stateMigrate:
		if pub {
			return 10, total, "Office 365 migration"
		}
		return 9, total, "Office 365 migration"
	}
	return total, total, "Live checks"
}

// next is the page after p, given the answers so far.
func (d *draft) next(p page) page {
	switch p.s {
	case stateDetect, stateWelcome:
		return page{s: stateServer}
	case stateServer:
		return page{s: stateDomains}
	case stateDomains:
		if d.Settings == settingsCustom && len(d.domainNames()) > 0 {
			return page{s: stateDomain}
		}
		return page{s: stateTopology}
	case stateDomain:
		if p.i+1 < len(d.domainNames()) {
			return page{s: stateDomain, i: p.i + 1}
		}
		return page{s: stateTopology}
	case stateTopology:
		if d.Mode != answers.ModeDirect {
			return page{s: stateRelay}
		}
		return d.next(page{s: stateCert})
	case stateRelay:
		if d.Mode == answers.ModeOffice365Connect && d.ConnectorAuth == answers.ConnectorCertificate {
			return page{s: stateCert}
		}
		return d.next(page{s: stateCert})
	case stateCert:
		if d.Upstream == upstreamNetworks || d.Upstream == upstreamBoth {
			return page{s: stateUpstream}
		}
		return page{s: stateDNS}
	case stateUpstream:
		return page{s: stateDNS}
	case stateDNS:
		if publishes(d.Provider) {
			return page{s: stateDNSAccess}
		}
		return page{s: stateReview}
	case stateDNSAccess:
		return page{s: stateReview}
	}
	return p
}

// group builds the form page p.
func (d *draft) group(p page) *huh.Group {
	switch p.s {
	case stateServer:
		return serverGroup(d)
	case stateDomains:
		return domainsGroup(d)
	case stateDomain:
		return domainGroup(d, p.i)
	case stateTopology:
		return topologyGroup(d)
	case stateRelay:
		return relayGroup(d)
	case stateCert:
		return certGroup(d)
	case stateUpstream:
		return upstreamGroup(d)
	case stateDNSAccess:
		return dnsAccessGroup(d)
	}
	return dnsGroup(d)
}

var domainIndex = regexp.MustCompile(`^domains\[(\d+)\]\.(dkim|dmarc)`)

// pageFor is the page that asks the answer at a problem's key path.
func (d *draft) pageFor(path string) page {
	switch {
	case strings.HasPrefix(path, "server"):
		return page{s: stateServer}
	case domainIndex.MatchString(path) && d.Settings == settingsCustom:
		i, _ := strconv.Atoi(domainIndex.FindStringSubmatch(path)[1])
		return page{s: stateDomain, i: i}
	case strings.HasPrefix(path, "domains"):
		return page{s: stateDomains}
	case strings.HasPrefix(path, "relay.office365.certificate"):
		return page{s: stateCert}
	case strings.HasPrefix(path, "relay.upstream"):
		return page{s: stateUpstream}
	case path == "relay.mode":
		return page{s: stateTopology}
	case strings.HasPrefix(path, "relay"):
		return page{s: stateRelay}
	case (strings.HasPrefix(path, "dns.rfc2136") || strings.HasPrefix(path, "dns.cloudflare")) && publishes(d.Provider):
		return page{s: stateDNSAccess}
	}
	return page{s: stateDNS}
}

// check applies defaults to the draft's answers and validates them.
func (d *draft) check() (*answers.Answers, []answers.Problem, []answers.Problem) {
	a := d.answers()
	a.Defaults(d.now)
	warnings, err := a.Validate()
	if ve, ok := err.(*answers.ValidationError); ok {
		return a, warnings, ve.Problems
	}
	return a, warnings, nil
}

// problemsOn are the problems asked on page p.
func (d *draft) problemsOn(p page, probs []answers.Problem) []string {
	var out []string
	for _, pr := range probs {
		if d.pageFor(pr.Path) == p {
			out = append(out, pr.String())
		}
	}
	return out
}
