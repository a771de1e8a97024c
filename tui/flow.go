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
	stateReview                 // every answer and file; confirm
	stateGenerate               // writing the bundle
	stateFailed                 // generation failed
	stateRecords                // records to publish
	stateDashboard              // live checks
	stateSummary                // the end
)

// page is a screen, with the domain index for stateDomain.
type page struct {
	s state
	i int
}

// isForm reports whether the page is a huh form.
func (p page) isForm() bool { return p.s >= stateServer && p.s <= stateDNS }

// step numbers the screens for the header: the nine steps.
func (p page) step() (int, string) {
	switch p.s {
	case stateDetect, stateWelcome:
		return 1, "Welcome"
	case stateServer:
		return 2, "Server"
	case stateDomains, stateDomain:
		return 3, "Domains"
	case stateTopology, stateRelay, stateCert, stateUpstream:
		return 4, "Topology"
	case stateDNS:
		return 5, "DNS provider"
	case stateReview:
		return 6, "Review"
	case stateGenerate, stateFailed:
		return 7, "Generate"
	case stateRecords:
		return 8, "DNS records"
	}
	return 9, "Live checks"
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
