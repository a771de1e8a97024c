// Package explain reads a bounce (a DSN, or an SMTP error pasted from a
// log) or the raw headers of a received message (Authentication-Results,
// ARC-Authentication-Results, Received-SPF, DKIM-Signature, Received) and
// says in plain words what failed, why, which DNS record or setting fixes
// it, and the sendready command that verifies the fix.
//
// Parse extracts Facts (domains, selectors, client IP, HELO, results,
// SMTP replies); Findings judges them. Both are pure: no DNS, no clock.
//
// The JSON form of a Result (`sendready explain --json`) is:
//
//	{
//	  "findings": [            // worst first: fail, then warn, then info
//	    {
//	      "code": "dkim-bad-signature",   // stable; the Code* constants
//	      "severity": "fail",             // fail | warn | info
//	      "title": "...",                 // one line
//	      "explanation": "...",           // what failed and the likely causes
//	      "fix": "...",                   // the record or setting to change
//	      "verify": "sendready check --domain example.com --selector s1",
//	      "domain": "example.com",        // omitted when unknown
//	      "selector": "s1",               // DKIM findings, when known
//	      "ip": "192.0.2.1",              // when known
//	      "evidence": "dkim=fail (bad signature) header.d=example.com"
//	    }
//	  ],
//	  "facts": { ... }          // Facts: what was read from the input
//	}
package explain

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/sendready/sendready/records"
)

// Finding codes: stable, scripts rely on them.
const (
	CodeUnauthenticated      = "unauthenticated"         // Gmail 5.7.26, RFC 7372 X.7.26: neither SPF nor DKIM passed
	CodeSPFFail              = "spf-fail"                // SPF fail/softfail/neutral, 5.7.23, "550 5.7.1 ... SPF"
	CodeSPFNone              = "spf-none"                // no SPF record
	CodeSPFPermError         = "spf-permerror"           // broken SPF record, 5.7.24
	CodeSPFTempError         = "spf-temperror"           // the receiver's DNS lookup failed
	CodeSPFPass              = "spf-pass"                // informational
	CodeDKIMBadSignature     = "dkim-bad-signature"      // dkim=fail (bad signature): the DNS key does not match the signer
	CodeDKIMBodyHash         = "dkim-body-hash"          // the body changed after signing
	CodeDKIMKeyError         = "dkim-key-error"          // no key / bad key at <s>._domainkey.<d>
	CodeDKIMTempError        = "dkim-temperror"          // the receiver's key lookup failed
	CodeDKIMNone             = "dkim-none"               // the message was not signed
	CodeDKIMFail             = "dkim-fail"               // no passing DKIM signature (5.7.20-22)
	CodeDKIMPass             = "dkim-pass"               // informational
	CodeDMARCFail            = "dmarc-fail"              // dmarc=fail, Gmail "DMARC policy", Microsoft 5.7.509
	CodeDMARCNone            = "dmarc-none"              // no DMARC record
	CodeDMARCError           = "dmarc-error"             // broken DMARC record
	CodeDMARCPass            = "dmarc-pass"              // informational
	CodePTRMissing           = "ptr-missing"             // 5.7.25: no reverse DNS for the sending IP
	CodeOutlookAuthLevel     = "outlook-auth-level"      // Outlook.com 5.7.515
	CodeO365TenantAttrib     = "o365-tenant-attribution" // 5.7.64 TenantAttribution
	CodeO365RejectDirectSend = "o365-reject-direct-send" // 5.7.68 RejectDirectSend
	CodeO365NotAuthenticated = "o365-not-authenticated"  // 5.7.57
	CodeO365SMTPAuth         = "o365-smtp-auth"          // 5.7.139 / 5.7.3: SMTP AUTH refused or disabled
	CodeO365SendAsDenied     = "o365-send-as-denied"     // 5.2.252 SendAsDenied
)

// Severity says how bad a finding is.
type Severity string

// Severities, worst first.
const (
	SeverityFail Severity = "fail"
	SeverityWarn Severity = "warn"
	SeverityInfo Severity = "info"
)

// Finding is one thing the input shows: what failed, why, and the fix.
type Finding struct {
	Code        string   `json:"code"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Explanation string   `json:"explanation"`
	Fix         string   `json:"fix"`
	// Verify is the sendready command that checks the fix; empty when the
	// fix is not in DNS (Exchange Online settings, credentials).
	Verify   string `json:"verify,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Selector string `json:"selector,omitempty"`
	IP       string `json:"ip,omitempty"`
	// Evidence is the line of the input the finding comes from.
	Evidence string `json:"evidence,omitempty"`
}

// Result is the explanation of one input.
type Result struct {
	Findings []Finding `json:"findings"`
	Facts    Facts     `json:"facts"`
}

// Explain parses data and judges it.
func Explain(data []byte) Result {
	f := Parse(data)
	return Result{Facts: f, Findings: Findings(f)}
}

// Target is one domain a live check of the explained input should look
// at, with what the input says about it.
type Target struct {
	Domain    string
	Selectors []string
	IP        string // the client IP, when the input names one
	// Hostname is the HELO name when it lies inside Domain (then its A
	// and PTR are checked too).
	Hostname string
}

// Targets lists the sender domains of the input (author domain first,
// then the envelope and DKIM domains), each with its selectors.
func (r Result) Targets() []Target {
	f := r.Facts
	var doms []string
	add := func(d string) {
		if d != "" && !slices.Contains(doms, d) && !isProviderDomain(d) {
			doms = append(doms, d)
		}
	}
	add(f.FromDomain)
	add(f.MailFromDomain)
	for _, s := range f.Signatures {
		add(s.Domain)
	}
	for _, fd := range r.Findings {
		add(fd.Domain)
	}
	var out []Target
	for _, d := range doms {
		t := Target{Domain: d, IP: f.ClientIP, Selectors: selectorsOf(f, d)}
		if f.HELO != "" && (f.HELO == d || strings.HasSuffix(f.HELO, "."+d)) {
			t.Hostname = f.HELO
		}
		out = append(out, t)
	}
	return out
}

// isProviderDomain reports whether d is a mailbox provider's own domain,
// which an explanation never asks the user to fix.
func isProviderDomain(d string) bool {
	for _, p := range []string{"outlook.com", "protection.outlook.com", "office365.com", "google.com", "gmail.com", "googlemail.com", "onmicrosoft.com"} {
		if d == p || strings.HasSuffix(d, "."+p) {
			return true
		}
	}
	return false
}

// selectorsOf lists the DKIM selectors the input shows for domain d.
func selectorsOf(f Facts, d string) []string {
	var out []string
	for _, s := range f.Signatures {
		if s.Domain == d && s.Selector != "" && !slices.Contains(out, s.Selector) {
			out = append(out, s.Selector)
		}
	}
	for _, r := range f.Results {
		if r.Method == "dkim" && r.Domain == d && r.Selector != "" && !slices.Contains(out, r.Selector) {
			out = append(out, r.Selector)
		}
	}
	return out
}

// verify builds the sendready check command for a finding.
func verify(domain, selector, ip string) string {
	if domain == "" {
		domain = "<your-domain>"
	}
	cmd := "sendready check --domain " + domain
	if selector != "" {
		cmd += " --selector " + selector
	}
	if ip != "" {
		cmd += " --ip " + ip
	}
	return cmd
}

// spfTerm is the SPF mechanism that authorises ip ("ip4:192.0.2.1").
func spfTerm(ip string) string {
	a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		return "ip4:<your-server-ip>"
	}
	return records.IPTerm(a).String()
}

// exampleSPF is a complete SPF record authorising ip with ~all.
func exampleSPF(ip string) string {
	a, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		return "v=spf1 ip4:<your-server-ip> ~all"
	}
	s, err := records.NewSPF(records.IPTerm(a), records.AllTerm(records.SoftFail))
	if err != nil {
		return "v=spf1 " + spfTerm(ip) + " ~all"
	}
	return s.String()
}

// exampleDMARC is the DMARC record to start with.
func exampleDMARC(domain string) string {
	return records.DMARC{Policy: "none", RUA: []string{"mailto:dmarc@" + domain}}.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sendsViaOffice365 reports whether the sending hop is Microsoft's own
// outbound service (mail written in Outlook, or relayed through Office 365).
func sendsViaOffice365(f Facts) bool {
	return strings.HasSuffix(f.HELO, ".outbound.protection.outlook.com") || strings.HasSuffix(f.HELO, ".prod.outlook.com")
}

func fmtList(ss []string) string { return strings.Join(ss, ", ") }

// place is "domain" or a placeholder.
func place(d string) string { return or(d, "<your-domain>") }
