package explain

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Findings judges the facts: one finding per failed (or, as info, passed)
// check, worst first, without duplicates.
func Findings(f Facts) []Finding {
	j := judge{f: f}
	for _, r := range f.Replies {
		j.reply(r)
	}
	j.results()
	return j.sorted()
}

type judge struct {
	f   Facts
	out []Finding
}

func (j *judge) add(fd Finding) {
	for _, o := range j.out {
		if o.Code == fd.Code && o.Domain == fd.Domain && o.Selector == fd.Selector && o.IP == fd.IP {
			return
		}
	}
	// A domain-less finding adds nothing to one of the same code with a domain.
	for i, o := range j.out {
		if o.Code == fd.Code && (o.Domain == "" || fd.Domain == "") {
			if o.Domain == "" {
				j.out[i] = fd
			}
			return
		}
	}
	j.out = append(j.out, fd)
}

func (j *judge) has(code string) bool {
	return slices.ContainsFunc(j.out, func(f Finding) bool { return f.Code == code })
}

func (j *judge) sorted() []Finding {
	rank := map[Severity]int{SeverityFail: 0, SeverityWarn: 1, SeverityInfo: 2}
	out := slices.Clone(j.out)
	slices.SortStableFunc(out, func(a, b Finding) int { return rank[a.Severity] - rank[b.Severity] })
	if out == nil {
		out = []Finding{}
	}
	return out
}

// selector is the first selector the input shows for d.
func (j *judge) selector(d string) string {
	if s := selectorsOf(j.f, d); len(s) > 0 {
		return s[0]
	}
	return ""
}

// reply judges one SMTP reply by its enhanced status code and text.
func (j *judge) reply(r Reply) {
	text := strings.ToLower(r.Text)
	ev := strings.TrimSpace(strings.TrimSpace(codeString(r.Code) + " " + r.Enhanced + " " + clip(r.Text, 160)))
	dom := or(domainInText(r.Text), j.f.FromDomain)
	ip := j.f.ClientIP
	if m := gmailSPFRE.FindStringSubmatch(r.Text); m != nil && isAddr(m[2]) {
		ip = m[2]
	}
	mentions := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	switch {
	case r.Enhanced == "5.7.26" && mentions("dmarc"), r.Enhanced == "5.7.509", strings.HasPrefix(r.Enhanced, "5.7.") && mentions("dmarc"):
		j.add(j.dmarcFail(dom, ev))
	case r.Enhanced == "5.7.26":
		j.add(j.unauthenticated(dom, ip, ev))
	case r.Enhanced == "5.7.23", r.Enhanced == "5.7.27" && mentions("spf"),
		strings.HasPrefix(r.Enhanced, "5.7.") && mentions("spf", "sender policy framework", "not designate"):
		j.add(j.spfFail(or(domainInText(r.Text), or(j.f.MailFromDomain, dom)), ip, ev))
	case r.Enhanced == "5.7.24":
		j.add(j.spfPermError(or(j.f.MailFromDomain, dom), ev))
	case r.Enhanced == "5.7.20", r.Enhanced == "5.7.21", r.Enhanced == "5.7.22",
		strings.HasPrefix(r.Enhanced, "5.7.") && mentions("dkim"):
		j.add(j.dkimFail(dom, j.selector(dom), ev))
	case r.Enhanced == "5.7.25", strings.HasPrefix(r.Enhanced, "5.7.") && mentions("ptr record", "reverse dns", "reverse lookup"):
		j.add(ptrMissing(ip, j.f.HELO, ev))
	case r.Enhanced == "5.7.515":
		j.add(j.outlookAuthLevel(dom, ip, ev))
	case r.Enhanced == "5.7.64", mentions("tenantattribution") && !mentions("tenantinboundattribution"):
		j.add(tenantAttribution(dom, ip, ev))
	case r.Enhanced == "5.7.68", mentions("rejectdirectsend", "direct send not allowed"):
		j.add(rejectDirectSend(dom, ip, ev))
	case r.Enhanced == "5.7.57":
		j.add(notAuthenticated(dom, ev))
	case r.Enhanced == "5.7.139", r.Enhanced == "5.7.3" && mentions("authentication unsuccessful"):
		j.add(smtpAuth(text, dom, ev))
	case r.Enhanced == "5.2.252", mentions("sendasdenied"):
		j.add(sendAsDenied(r.Text, dom, ev))
	}
}

// results judges the authentication results of the headers.
func (j *judge) results() {
	rs := j.f.Results
	// ARC-Authentication-Results repeat an earlier hop's results: use them
	// only for methods no Authentication-Results header reports.
	direct := map[string]bool{}
	for _, r := range rs {
		if r.Header != "ARC-Authentication-Results" {
			direct[r.Method] = true
		}
	}
	passed := map[string]bool{}
	for _, r := range rs {
		if r.Result == "pass" {
			passed[r.Method] = true
		}
	}
	for _, r := range rs {
		if r.Header == "ARC-Authentication-Results" && direct[r.Method] {
			continue
		}
		ev := r.Method + "=" + r.Result
		if r.Comment != "" {
			ev += " (" + r.Comment + ")"
		}
		if r.Domain != "" {
			ev += " " + r.Domain
		}
		if r.Header == "Received-SPF" || r.Header == "DKIM-Result" {
			ev = r.Header + ": " + ev
		}
		switch r.Method {
		case "spf":
			ip := or(r.IP, j.f.ClientIP)
			dom := or(r.Domain, j.f.MailFromDomain)
			switch r.Result {
			case "fail", "softfail", "hardfail", "neutral", "policy":
				j.add(j.spfFail(dom, ip, ev))
			case "none":
				if !passed["spf"] {
					j.add(spfNone(dom, ip, ev))
				}
			case "permerror":
				j.add(j.spfPermError(dom, ev))
			case "temperror":
				j.add(Finding{Code: CodeSPFTempError, Severity: SeverityWarn, Domain: dom, IP: ip, Evidence: ev,
					Title:       "The receiver could not look up the SPF record of " + place(dom) + " (temperror)",
					Explanation: "A DNS timeout or SERVFAIL while the receiver evaluated SPF. It is usually transient; when it repeats, one of the domain's name servers is failing or an include: points at a slow domain.",
					Fix:         "Check that every authoritative server of " + place(dom) + " answers for the TXT record; the check below asks each one.",
					Verify:      verify(dom, "", ip)})
			case "pass":
				j.add(j.spfPass(dom, ip, ev))
			}
		case "dkim":
			dom := r.Domain
			if dom == "" && len(j.f.Signatures) > 0 {
				dom = j.f.Signatures[0].Domain
			}
			sel := or(r.Selector, j.selector(dom))
			c := strings.ToLower(r.Comment + " " + r.Reason)
			switch r.Result {
			case "fail", "neutral", "policy":
				switch {
				case strings.Contains(c, "body hash") || strings.Contains(c, "altered"):
					j.add(dkimBodyHash(dom, sel, ev))
				case strings.Contains(c, "no key") || strings.Contains(c, "key not found") || strings.Contains(c, "no public key"):
					j.add(j.dkimKeyError(dom, sel, ev))
				default:
					j.add(j.dkimBadSignature(dom, sel, ev))
				}
			case "permerror":
				j.add(j.dkimKeyError(dom, sel, ev))
			case "temperror":
				j.add(Finding{Code: CodeDKIMTempError, Severity: SeverityWarn, Domain: dom, Selector: sel, Evidence: ev,
					Title:       "The receiver could not fetch the DKIM key (temperror)",
					Explanation: "A DNS timeout or SERVFAIL while looking up the key. Usually transient; when it repeats, a name server of the domain is failing.",
					Fix:         "Check that every authoritative server answers for " + keyName(sel, dom) + ".",
					Verify:      verify(dom, sel, "")})
			case "none":
				if !passed["dkim"] {
					j.add(j.dkimNone(or(dom, j.f.FromDomain), ev))
				}
			case "pass":
				j.add(Finding{Code: CodeDKIMPass, Severity: SeverityInfo, Domain: dom, Selector: sel, Evidence: ev,
					Title:       "DKIM passed for " + place(dom) + selWord(sel),
					Explanation: "The signature verified with the key published at " + keyName(sel, dom) + ".",
					Fix:         "Nothing to fix. Keep the key record published while the signer uses it.",
					Verify:      verify(dom, sel, "")})
			}
		case "dmarc":
			dom := or(r.Domain, j.f.FromDomain)
			switch r.Result {
			case "fail":
				j.add(j.dmarcFail(dom, ev))
			case "none":
				if !passed["dmarc"] {
					j.add(Finding{Code: CodeDMARCNone, Severity: SeverityWarn, Domain: dom, Evidence: ev,
						Title:       place(dom) + " publishes no DMARC record",
						Explanation: "Without a DMARC record receivers apply their own policy, and Gmail, Yahoo and Outlook.com reject bulk mail from domains without one. DMARC also says which of SPF and DKIM must align with the From domain.",
						Fix:         "Publish _dmarc." + place(dom) + " TXT \"" + exampleDMARC(place(dom)) + "\" and tighten p= once the reports show every sender passing.",
						Verify:      verify(dom, "", "")})
				}
			case "permerror":
				j.add(Finding{Code: CodeDMARCError, Severity: SeverityFail, Domain: dom, Evidence: ev,
					Title:       "The DMARC record of " + place(dom) + " is broken (permerror)",
					Explanation: "The record at _dmarc." + place(dom) + " could not be parsed: a missing v=DMARC1 at the start, an unknown p= value, two TXT records, or a value split badly by the DNS provider.",
					Fix:         "Replace it with one TXT record such as \"" + exampleDMARC(place(dom)) + "\".",
					Verify:      verify(dom, "", "")})
			case "pass":
				j.add(Finding{Code: CodeDMARCPass, Severity: SeverityInfo, Domain: dom, Evidence: ev,
					Title:       "DMARC passed for " + place(dom),
					Explanation: "SPF or DKIM passed for a domain aligned with the From domain.",
					Fix:         "Nothing to fix.",
					Verify:      verify(dom, "", "")})
			}
		case "compauth":
			if r.Result == "fail" && !j.has(CodeDMARCFail) {
				j.add(j.unauthenticated(j.f.FromDomain, j.f.ClientIP, ev+" reason="+r.Reason))
			}
		}
	}
}

func (j *judge) unauthenticated(dom, ip, ev string) Finding {
	sel := or(j.selector(dom), "<selector>")
	return Finding{Code: CodeUnauthenticated, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title: "The receiver found no passing SPF or DKIM for " + place(dom),
		Explanation: "The message was rejected as unauthenticated: neither SPF nor DKIM passed for a domain aligned with the From address (Gmail demands at least one for every sender, and both plus DMARC for bulk senders). " +
			"Likely causes: the domain's DNS lacks the SPF, DKIM or DMARC records — often after the domain moved to another DNS provider (such as Cloudflare) and only some records were copied — the sending IP is not in SPF, or the server does not DKIM-sign.",
		Fix: "Publish at the DNS provider that is authoritative for " + place(dom) + ":\n" +
			"  SPF:   " + place(dom) + " TXT \"" + exampleSPF(ip) + "\" (or add " + spfTerm(ip) + " to the existing record)\n" +
			"  DKIM:  " + sel + "._domainkey." + place(dom) + " TXT with the key your signer uses\n" +
			"  DMARC: _dmarc." + place(dom) + " TXT \"" + exampleDMARC(place(dom)) + "\"\n" +
			"sendready generate writes all three for your answers.",
		Verify: verify(dom, j.selector(dom), ip)}
}

func (j *judge) spfFail(dom, ip, ev string) Finding {
	expl := "The receiver evaluated the SPF record of " + place(dom) + " (the envelope sender's domain) and the sending address " + or(ip, "of your server") + " is not in it. " +
		"Likely causes: a new or changed sending server or relay whose IP was never added, mail relayed through a provider whose include: is missing, or no SPF record at the provider that now serves the domain."
	fix := "Add " + spfTerm(ip) + " (before the ~all) to the SPF TXT record of " + place(dom) + "; without a record, publish " + place(dom) + " TXT \"" + exampleSPF(ip) + "\". Never use +all."
	if sendsViaOffice365(j.f) {
		fix = "The message left through Office 365 (HELO " + j.f.HELO + "): add include:spf.protection.outlook.com to the SPF TXT record of " + place(dom) + "."
	}
	return Finding{Code: CodeSPFFail, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title:       "SPF failed: " + or(ip, "the sending server") + " is not allowed to send for " + place(dom),
		Explanation: expl, Fix: fix, Verify: verify(dom, "", ip)}
}

func spfNone(dom, ip, ev string) Finding {
	return Finding{Code: CodeSPFNone, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title:       place(dom) + " has no SPF record",
		Explanation: "The receiver found no TXT record starting with v=spf1 at " + place(dom) + ", so no server is authorised to send for it. This is common after moving DNS to a new provider without copying every record.",
		Fix:         "Publish " + place(dom) + " TXT \"" + exampleSPF(ip) + "\" (add include:spf.protection.outlook.com when Office 365 also sends for the domain).",
		Verify:      verify(dom, "", ip)}
}

func (j *judge) spfPermError(dom, ev string) Finding {
	return Finding{Code: CodeSPFPermError, Severity: SeverityFail, Domain: dom, Evidence: ev,
		Title: "The SPF record of " + place(dom) + " is broken (permerror)",
		Explanation: "Receivers treat a broken SPF record as a failure. Likely causes: two TXT records starting with v=spf1, more than 10 DNS-querying mechanisms (include, a, mx, ptr, exists, redirect), " +
			"a syntax error, or an address written as a domain (a:192.0.2.1 is wrong; ip4:192.0.2.1 is right).",
		Fix:    "Merge everything into one v=spf1 record of " + place(dom) + " that parses and stays under 10 lookups; write addresses as ip4:/ip6:.",
		Verify: verify(dom, "", "")}
}

func (j *judge) spfPass(dom, ip, ev string) Finding {
	expl := "The receiver checked the envelope domain " + place(dom) + " from " + or(ip, "the sending address") + " and the SPF record allows it."
	if j.f.HELO != "" {
		expl += " The sending server said HELO " + j.f.HELO + "."
	}
	fix := "Nothing to fix; keep " + spfTerm(ip) + " in the SPF of " + place(dom) + "."
	if sendsViaOffice365(j.f) {
		expl += " The sending hop is Office 365 itself, authorised by include:spf.protection.outlook.com."
		fix = "Nothing to fix; keep include:spf.protection.outlook.com in the SPF of " + place(dom) + "."
	}
	return Finding{Code: CodeSPFPass, Severity: SeverityInfo, Domain: dom, IP: ip, Evidence: ev,
		Title: "SPF passed for " + place(dom) + " from " + or(ip, "the sending server"), Explanation: expl, Fix: fix, Verify: verify(dom, "", ip)}
}

func keyName(sel, dom string) string { return or(sel, "<selector>") + "._domainkey." + place(dom) }

func selWord(sel string) string {
	if sel == "" {
		return ""
	}
	return " (selector " + sel + ")"
}

func (j *judge) dkimBadSignature(dom, sel, ev string) Finding {
	return Finding{Code: CodeDKIMBadSignature, Severity: SeverityFail, Domain: dom, Selector: sel, Evidence: ev,
		Title: "The DKIM signature of " + place(dom) + selWord(sel) + " did not verify (bad signature)",
		Explanation: "The receiver fetched the public key at " + keyName(sel, dom) + " and it does not verify the signature: the key in DNS is not the one the signer uses. " +
			"Likely causes: a typo or a truncated value when the key was pasted into the DNS provider (long keys must be split into quoted strings of at most 255 characters), " +
			"a key rotation or server migration that made a new private key without publishing its public key, or a signer configured with another selector's key.",
		Fix:    "Publish " + keyName(sel, dom) + " TXT with the key your signer uses (for OpenDKIM, the .txt file next to the private key; opendkim-testkey -d " + place(dom) + " -s " + or(sel, "<selector>") + " -vvv must say \"key OK\").",
		Verify: verify(dom, sel, "")}
}

func dkimBodyHash(dom, sel, ev string) Finding {
	return Finding{Code: CodeDKIMBodyHash, Severity: SeverityFail, Domain: dom, Selector: sel, Evidence: ev,
		Title:       "The message body changed after DKIM signing (d=" + place(dom) + ")",
		Explanation: "The body hash does not match: something modified the message after the signer: a disclaimer or footer added by a relay, a mailing list, an antivirus gateway, or a line-ending or encoding change. The key in DNS is not the problem.",
		Fix:         "Sign last: move the DKIM signing to the last server before the Internet (or stop the later hop from rewriting the body); with OpenDKIM use Canonicalization relaxed/relaxed.",
		Verify:      verify(dom, sel, "")}
}

func (j *judge) dkimKeyError(dom, sel, ev string) Finding {
	return Finding{Code: CodeDKIMKeyError, Severity: SeverityFail, Domain: dom, Selector: sel, Evidence: ev,
		Title:       "No usable DKIM key at " + keyName(sel, dom),
		Explanation: "The receiver found no key, or a key it cannot use, at " + keyName(sel, dom) + ": the record was never published (or not at the DNS provider that now serves the domain), the selector is misspelt, or the TXT value is broken (missing p=, quotes or line breaks pasted into it).",
		Fix:         "Publish " + keyName(sel, dom) + " TXT \"v=DKIM1; k=rsa; p=<the public key of your signer>\".",
		Verify:      verify(dom, sel, "")}
}

func (j *judge) dkimNone(dom, ev string) Finding {
	return Finding{Code: CodeDKIMNone, Severity: SeverityWarn, Domain: dom, Evidence: ev,
		Title:       "The message was not DKIM-signed",
		Explanation: "No DKIM signature reached the receiver: the signer (OpenDKIM milter, Office 365 DKIM) is not running, not hooked into Postfix (smtpd_milters/non_smtpd_milters), or does not sign this domain or this client (TrustedHosts, SigningTable).",
		Fix:         "Sign outgoing mail for " + place(dom) + " and publish <selector>._domainkey." + place(dom) + " TXT with its public key; sendready generate and apply set up OpenDKIM.",
		Verify:      verify(dom, "", "")}
}

func (j *judge) dkimFail(dom, sel, ev string) Finding {
	return Finding{Code: CodeDKIMFail, Severity: SeverityFail, Domain: dom, Selector: sel, Evidence: ev,
		Title:       "No passing DKIM signature for " + place(dom),
		Explanation: "The receiver requires a valid DKIM signature (aligned with the From domain) and found none: the message was not signed, or the signature did not verify against the key in DNS.",
		Fix:         "Sign with a key whose public half is published at " + keyName(sel, dom) + " TXT.",
		Verify:      verify(dom, sel, "")}
}

func (j *judge) dmarcFail(dom, ev string) Finding {
	var why []string
	for _, r := range j.f.Results {
		if r.Result != "pass" || r.Domain == "" || dom == "" {
			continue
		}
		if r.Method != "spf" && r.Method != "dkim" {
			continue
		}
		if aligned(r.Domain, dom) {
			why = append(why, strings.ToUpper(r.Method)+" passed for "+r.Domain+" (aligned)")
		} else {
			why = append(why, strings.ToUpper(r.Method)+" passed for "+r.Domain+", which is not aligned with "+dom)
		}
	}
	expl := "DMARC of " + place(dom) + " requires SPF (envelope domain) or DKIM (d= domain) to pass for a domain aligned with the From address, and neither did. "
	if len(why) > 0 {
		expl += "Here: " + fmtList(why) + ". "
	}
	expl += "Likely causes: a relay or newsletter service that sends with its own envelope domain and signs with its own d=, a server missing from SPF, or DKIM failing (see the other findings)."
	return Finding{Code: CodeDMARCFail, Severity: SeverityFail, Domain: dom, IP: j.f.ClientIP, Evidence: ev,
		Title:       "DMARC failed for " + place(dom),
		Explanation: expl,
		Fix:         "Make at least one pass aligned: DKIM-sign with d=" + place(dom) + " and publish <selector>._domainkey." + place(dom) + ", or add the sending IP (" + spfTerm(j.f.ClientIP) + ") to the SPF of the envelope domain and use an envelope sender in " + place(dom) + ". Keep p=none at _dmarc." + place(dom) + " until the reports show every sender passing.",
		Verify:      verify(dom, j.selector(dom), j.f.ClientIP)}
}

// aligned is DMARC's relaxed alignment, approximated: one domain equals
// or is a subdomain of the other.
func aligned(a, b string) bool {
	return a == b || strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a)
}

func ptrMissing(ip, helo, ev string) Finding {
	name := "your mail server's name"
	if helo != "" {
		name += " (" + helo + ")"
	}
	return Finding{Code: CodePTRMissing, Severity: SeverityFail, IP: ip, Evidence: ev,
		Title:       "The sending IP " + or(ip, "address") + " has no matching reverse DNS (PTR)",
		Explanation: "The receiver looked up the PTR of the sending address and found none, or a name that does not resolve back to the address. The PTR is set by whoever owns the address (your VPS or hosting provider), not in your domain's zone.",
		Fix:         "Ask the provider of " + or(ip, "the sending IP") + " to set its PTR to " + name + ", and make that name's A record point back at the address.",
		Verify:      verify("", "", ip)}
}

func (j *judge) outlookAuthLevel(dom, ip, ev string) Finding {
	return Finding{Code: CodeOutlookAuthLevel, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title:       "Outlook.com: " + place(dom) + " does not meet the required authentication level (5.7.515)",
		Explanation: "Outlook.com, Hotmail and Live reject mail from high-volume senders whose From domain does not pass SPF and DKIM and publish DMARC (at least p=none) with one of them aligned.",
		Fix:         "Publish all three for " + place(dom) + ": SPF with " + spfTerm(ip) + ", DKIM at <selector>._domainkey." + place(dom) + ", and _dmarc." + place(dom) + " TXT \"" + exampleDMARC(place(dom)) + "\".",
		Verify:      verify(dom, j.selector(dom), ip)}
}

func tenantAttribution(dom, ip, ev string) Finding {
	return Finding{Code: CodeO365TenantAttrib, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title: "Office 365 did not attribute the relayed mail to your tenant (5.7.64 TenantAttribution)",
		Explanation: "Exchange Online accepted the connection but no inbound connector of type OnPremises matched it: the sending IP " + or(ip, "") + " is not in the connector's SenderIPAddresses, " +
			"the certificate Postfix presents does not match TlsSenderCertificateName, the connector was not created (or is disabled), or the From/envelope domain is not an accepted domain of the tenant.",
		Fix: "Create or fix the inbound connector: run office365/connector.ps1 from the bundle (sendready generate with relay.mode office365-connector); with connector_auth ip the connector's SenderIPAddresses must hold this server's current public IPv4, with certificate Postfix must present the named certificate (smtp_tls_cert_file). " +
			"Also keep " + spfTerm(ip) + " in the SPF of " + place(dom) + ".",
		Verify: verify(dom, "", ip)}
}

func rejectDirectSend(dom, ip, ev string) Finding {
	return Finding{Code: CodeO365RejectDirectSend, Severity: SeverityFail, Domain: dom, IP: ip, Evidence: ev,
		Title:       "Office 365 refuses Direct Send for this tenant (5.7.68 RejectDirectSend)",
		Explanation: "The tenant has Set-OrganizationConfig -RejectDirectSend $true: mail sent anonymously to its MX (…mail.protection.outlook.com) with a From in one of its own domains is refused unless a connector vouches for the sender. A Postfix that delivers straight to the tenant's MX without a matching inbound connector is such a sender.",
		Fix:         "Create the inbound connector for this server (office365/connector.ps1 from the bundle, relay.mode office365-connector) so the relay is attributed to the tenant, or send with SMTP AUTH (relay.mode office365-smtp-auth). Do not turn RejectDirectSend off to make it pass.",
		Verify:      verify(dom, "", ip)}
}

func notAuthenticated(dom, ev string) Finding {
	return Finding{Code: CodeO365NotAuthenticated, Severity: SeverityFail, Domain: dom, Evidence: ev,
		Title:       "Office 365 wanted SMTP AUTH and the client did not log in (5.7.57)",
		Explanation: "smtp.office365.com (port 587) only relays for authenticated mailboxes. Postfix did not authenticate: smtp_sasl_auth_enable is off, sasl_passwd has no entry for [smtp.office365.com]:587 (or the map was not rebuilt with postmap), the libsasl2 modules are missing, or STARTTLS did not happen first (smtp_tls_security_level = encrypt).",
		Fix:         "Use relay.mode office365-smtp-auth and let sendready generate/apply write relayhost, smtp_sasl_* and sasl_passwd; put the mailbox password in sasl_passwd and run postmap. To relay without a mailbox, use an inbound connector instead (office365-connector).",
	}
}

func smtpAuth(text, dom, ev string) Finding {
	f := Finding{Code: CodeO365SMTPAuth, Severity: SeverityFail, Domain: dom, Evidence: ev,
		Title: "Office 365 refused the SMTP AUTH login (5.7.139)"}
	switch {
	case strings.Contains(text, "disabled for the tenant"):
		f.Explanation = "SMTP AUTH (SmtpClientAuthentication) is disabled for the whole tenant, which is Microsoft's default for new tenants."
		f.Fix = "Either enable it for the relay mailbox only (Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false; office365/smtp-auth.ps1 in the bundle does this) or relay through an inbound connector (relay.mode office365-connector), which needs no mailbox."
	case strings.Contains(text, "disabled for the mailbox"):
		f.Explanation = "SMTP AUTH is disabled for the mailbox Postfix logs in as."
		f.Fix = "Run Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false (office365/smtp-auth.ps1 in the bundle), or relay through an inbound connector instead."
	case strings.Contains(text, "basic authentication") || strings.Contains(text, "security defaults") || strings.Contains(text, "did not meet the criteria"):
		f.Explanation = "The tenant blocks basic (password) authentication: Security defaults or a Conditional Access policy, or Microsoft's retirement of basic auth for SMTP client submission."
		f.Fix = "Relay through an inbound connector (relay.mode office365-connector: no password at all), or exclude the relay mailbox from the policy if your organisation allows it."
	default:
		f.Explanation = "The credentials were refused: a wrong or expired password in sasl_passwd, a user name that is not the mailbox's UPN, MFA on the mailbox, or SMTP AUTH disabled for the mailbox or tenant."
		f.Fix = "Check the user name and password in sasl_passwd (then postmap it), make sure SMTP AUTH is enabled for the mailbox (office365/smtp-auth.ps1), or relay through an inbound connector instead (relay.mode office365-connector)."
	}
	return f
}

func sendAsDenied(raw, dom, ev string) Finding {
	who, as := "", ""
	if m := sendAsRE.FindStringSubmatch(raw); m != nil {
		who, as = m[1], m[2]
	}
	expl := "Office 365 accepted the SMTP AUTH login but the message's sender is not the authenticated mailbox, and that mailbox has no Send As right for it."
	if who != "" {
		expl = "The relay logged in as " + who + " but the message was sent as " + as + "; " + who + " has no Send As permission for that address."
	}
	return Finding{Code: CodeO365SendAsDenied, Severity: SeverityFail, Domain: dom, Evidence: ev,
		Title:       "Office 365: the sender is not the authenticated mailbox (5.2.252 SendAsDenied)",
		Explanation: expl,
		Fix:         "Rewrite the envelope sender and From to the relay mailbox (sendready's office365-smtp-auth mode sets sender_canonical_maps and smtp_header_checks for this), or grant Send As (Add-RecipientPermission <address> -AccessRights SendAs -Trustee <mailbox>), or relay through an inbound connector, which accepts any sender in your domains.",
	}
}

var sendAsRE = regexp.MustCompile(`(?i)SendAsDenied;\s*(\S+@\S+)\s+not allowed to send as\s+(\S+@[^\s;]+)`)

func codeString(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}

// clip shortens s to n bytes at a word boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if i := strings.LastIndexByte(s[:n], ' '); i > n/2 {
		return s[:i] + " …"
	}
	return s[:n] + "…"
}
