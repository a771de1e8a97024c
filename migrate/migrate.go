// Package migrate plans the move of a Postfix server that sends mail
// directly today to relaying through Office 365, as ordered steps, each
// with the check that must be green before the next:
//
//  1. verify the domain in Microsoft 365 (its MS=ms… TXT at the apex)
//  2. lower the MX and SPF TTLs to 300 and wait out the old TTL
//  3. add include:spf.protection.outlook.com to SPF
//  4. create the inbound connector (office365/connector.ps1 of the bundle;
//     smtp-auth.ps1 in the SMTP AUTH mode)
//  5. switch relayhost (sendready apply)
//  6. send a test message through the relay
//  7. enable Office 365 DKIM (selector1/selector2 CNAMEs, then
//     Set-DkimSigningConfig -Enabled $true)
//  8. switch MX to Office 365
//  9. restore the TTLs
//
// Detect does the I/O (postconf -n, DNS through a dnscheck Engine) and
// returns a State; Plan is a pure function of the answers and the State.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
)

// LowTTL is the TTL the MX and SPF records carry during the switch.
const LowTTL = 300

// ErrNotOffice365 is returned by Check when the answers do not relay into
// Office 365.
var ErrNotOffice365 = errors.New("migrate: the answers do not relay into Office 365")

// State is what Detect found: this server's relayhost and each domain's
// records.
type State struct {
	// Relayhost is relayhost from postconf -n ("" when unset: direct).
	Relayhost string `json:"relayhost"`
	// PostconfError is set when postconf could not be run.
	PostconfError string        `json:"postconf_error,omitempty"`
	Domains       []DomainState `json:"domains"`
	// Paths are not detected: the caller sets them so that the commands
	// Plan shows name the real answers file and bundle.
	Paths Paths `json:"-"`
}

// DomainState is one domain's records as published.
type DomainState struct {
	Name string `json:"name"`
	// MSVerify is the MS=ms… TXT value at the apex, "" when absent.
	MSVerify string `json:"ms_verify,omitempty"`
	// SPF is the v=spf1 TXT record, "" when absent.
	SPF        string `json:"spf,omitempty"`
	SPFInclude bool   `json:"spf_include"`
	// MX are the MX hosts (lower case, no trailing dot).
	MX          []string `json:"mx,omitempty"`
	MXOffice365 bool     `json:"mx_office365"`
	// DKIM maps selector1/selector2 to their CNAME targets (no trailing dot).
	DKIM map[string]string `json:"dkim_cnames,omitempty"`
	// MXTTL and SPFTTL are the TTLs the authoritative servers give.
	MXTTL  uint32 `json:"mx_ttl"`
	SPFTTL uint32 `json:"spf_ttl"`
	// CachedTTL is the longest TTL a resolver still counts down for the
	// MX or SPF record: the old TTL has been waited out once it is at
	// most LowTTL.
	CachedTTL uint32 `json:"cached_ttl"`
	// Errors lists the lookups that got no answer.
	Errors []string `json:"errors,omitempty"`
}

// Status is a step's place in the migration.
type Status string

// Step statuses.
const (
	StatusDone    Status = "done"
	StatusNext    Status = "next"
	StatusLater   Status = "later"
	StatusSkipped Status = "skipped"
)

// Step is one step of the migration.
type Step struct {
	N     int    `json:"n"`
	ID    string `json:"id"`
	Title string `json:"title"`
	// Status is done, next (the first step not done), later or skipped.
	Status Status `json:"status"`
	// Inferred marks a step sendready cannot see, taken as done because a
	// later step is.
	Inferred bool `json:"inferred,omitempty"`
	// Detail says what was observed.
	Detail string `json:"detail,omitempty"`
	// Action is the exact command or record for the step.
	Action string `json:"action"`
	// Check is what must be green before the next step.
	Check string `json:"check"`
}

// Step ids, in order.
const (
	StepVerifyDomain = "verify-domain"
	StepLowerTTL     = "lower-ttl"
	StepSPFInclude   = "spf-include"
	StepConnector    = "connector"
	StepRelayhost    = "relayhost"
	StepTestMessage  = "test-message"
	StepDKIM         = "office365-dkim"
	StepMX           = "mx"
	StepRestoreTTL   = "restore-ttl"
)

// Check returns ErrNotOffice365, with how to set the mode, when the
// answers are not an Office 365 mode.
func Check(a *answers.Answers) error {
	if a.Relay.IsOffice365() {
		return nil
	}
	mode := a.Relay.Mode
	if mode == "" {
		mode = answers.ModeDirect
	}
	return fmt.Errorf("%w: relay.mode is %s; set relay.mode: %s (Postfix relays through an inbound connector; relay.office365.connector_auth: ip or certificate) or %s (Postfix logs in as a mailbox; relay.office365.username), run sendready generate for the bundle with office365/connector.ps1, then run migrate again",
		ErrNotOffice365, mode, answers.ModeOffice365Connect, answers.ModeOffice365SMTPAuth)
}

// Postconf runs postconf with args and returns its standard output.
type Postconf func(ctx context.Context, args ...string) ([]byte, error)

// RunPostconf returns the real postconf, on configDir when it is not empty
// (postconf -c configDir).
func RunPostconf(configDir string) Postconf {
	return func(ctx context.Context, args ...string) ([]byte, error) {
		if configDir != "" {
			args = append([]string{"-c", configDir}, args...)
		}
		out, err := exec.CommandContext(ctx, "postconf", args...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) && len(ee.Stderr) > 0 {
				return out, fmt.Errorf("postconf %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(ee.Stderr)))
			}
			return out, fmt.Errorf("postconf %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
}

// Detect reads relayhost with postconf -n and looks up each domain's apex
// TXT and MX and its selector1/selector2 DKIM CNAMEs on the authoritative
// servers and resolvers of engine, all in one round.
func Detect(ctx context.Context, a *answers.Answers, engine *dnscheck.Engine, postconf Postconf) State {
	var st State
	if postconf != nil {
		out, err := postconf(ctx, "-n")
		if err != nil {
			st.PostconfError = err.Error()
		}
		st.Relayhost = postconfValue(string(out), "relayhost")
	}
	var qs []dnscheck.Query
	for _, d := range a.Domains {
		apex := dns.Fqdn(d.Name)
		qs = append(qs,
			dnscheck.Query{Name: apex, Type: dns.TypeTXT},
			dnscheck.Query{Name: apex, Type: dns.TypeMX},
			dnscheck.Query{Name: "selector1._domainkey." + apex, Type: dns.TypeCNAME},
			dnscheck.Query{Name: "selector2._domainkey." + apex, Type: dns.TypeCNAME})
	}
	rs := engine.Round(ctx, qs)
	for _, d := range a.Domains {
		apex := dns.Fqdn(d.Name)
		ds := DomainState{Name: d.Name, DKIM: map[string]string{}}
		txt := view(rs.Get(dnscheck.Query{Name: apex, Type: dns.TypeTXT}), &ds)
		for _, v := range txt.values {
			switch {
			case strings.HasPrefix(v, "MS=") && ds.MSVerify == "":
				ds.MSVerify = v
			case strings.HasPrefix(strings.ToLower(v), "v=spf1") && ds.SPF == "":
				ds.SPF = v
			}
		}
		ds.SPFInclude = spfIncludes(ds.SPF, answers.Office365SPFInclude)
		ds.SPFTTL = txt.ttl
		mx := view(rs.Get(dnscheck.Query{Name: apex, Type: dns.TypeMX}), &ds)
		for _, v := range mx.values {
			f := strings.Fields(v)
			if len(f) == 2 {
				ds.MX = append(ds.MX, strings.TrimSuffix(strings.ToLower(f[1]), "."))
			}
		}
		slices.Sort(ds.MX)
		ds.MXOffice365 = len(ds.MX) > 0 && !slices.ContainsFunc(ds.MX, func(h string) bool { return !strings.HasSuffix(h, ".mail.protection.outlook.com") })
		ds.MXTTL = mx.ttl
		ds.CachedTTL = max(txt.cached, mx.cached)
		for _, sel := range []string{"selector1", "selector2"} {
			c := view(rs.Get(dnscheck.Query{Name: sel + "._domainkey." + apex, Type: dns.TypeCNAME}), &ds)
			if len(c.values) > 0 {
				ds.DKIM[sel] = strings.TrimSuffix(strings.ToLower(c.values[0]), ".")
			}
		}
		st.Domains = append(st.Domains, ds)
	}
	return st
}

// seen is one query's answer as the authoritative servers give it (the
// resolvers' when no authoritative server answered).
type seen struct {
	values []string
	ttl    uint32 // authoritative TTL
	cached uint32 // longest TTL a resolver returned
}

func view(rs []dnscheck.Response, ds *DomainState) seen {
	var s seen
	authOK, failed := false, ""
	for _, r := range rs {
		if r.Err != nil {
			failed = r.Query.Name + " " + dns.TypeToString[r.Query.Type] + ": " + r.Err.Error()
			continue
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			failed = r.Query.Name + " " + dns.TypeToString[r.Query.Type] + ": " + dns.RcodeToString[r.Rcode]
			continue
		}
		vals := r.Values()
		if r.Server.Kind == dnscheck.Authoritative {
			if !authOK {
				s.values, s.ttl = vals, 0
				if len(vals) > 0 {
					s.ttl = r.TTL()
				}
				authOK = true
			}
			continue
		}
		if len(vals) > 0 {
			s.cached = max(s.cached, r.TTL())
		}
		if !authOK && s.values == nil {
			s.values = vals
		}
	}
	if !authOK && s.values == nil && failed != "" {
		ds.Errors = append(ds.Errors, failed)
	}
	return s
}

// postconfValue returns the value of name in postconf -n output.
func postconfValue(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// spfIncludes reports whether the SPF record has include:domain.
func spfIncludes(spf, domain string) bool {
	for _, f := range strings.Fields(strings.ToLower(spf)) {
		if strings.TrimLeft(f, "+") == "include:"+domain {
			return true
		}
	}
	return false
}
