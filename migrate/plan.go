package migrate

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sendready/sendready/internal/shell"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generators/office365"
	"github.com/sendready/sendready/records"
)

// Paths name the files the shown commands refer to (State.Paths); empty
// fields show a placeholder.
type Paths struct {
	AnswersFile string `json:"answers_file,omitempty"`
	BundleDir   string `json:"bundle_dir,omitempty"`
}

// Plan returns the nine steps with their status in state: done, next (the
// first that is not done), later, or skipped (the MX move when
// relay.office365.mx_to_office365 is false). Steps sendready cannot see
// (the connector, the test message) and steps whose trace may be gone
// (the MS= record may be removed after verification, TTLs are restored
// at the end) count as done when a later step that needs them is done.
// a must have its defaults applied.
func Plan(_ context.Context, a *answers.Answers, state State) []Step {
	p := planner{a: a, st: state, paths: state.Paths}
	steps := []Step{
		p.verifyDomain(), p.lowerTTL(), p.spfInclude(), p.connector(), p.relayhost(),
		p.testMessage(), p.dkim(), p.mx(), p.restoreTTL(),
	}
	detected := make([]bool, len(steps))
	for i, s := range steps {
		detected[i] = s.Status == StatusDone
	}
	// inferredFrom lists, per step, the later steps whose being done means
	// this one was done.
	inferredFrom := map[string][]string{
		StepVerifyDomain: {StepRelayhost, StepDKIM, StepMX},
		StepLowerTTL:     {StepMX, StepRestoreTTL},
		StepConnector:    {StepRelayhost},
		StepTestMessage:  {StepMX, StepRestoreTTL},
	}
	index := func(id string) int { return slices.IndexFunc(steps, func(s Step) bool { return s.ID == id }) }
	for i := range steps {
		if steps[i].Status == StatusDone || steps[i].Status == StatusSkipped {
			continue
		}
		for _, later := range inferredFrom[steps[i].ID] {
			if detected[index(later)] {
				steps[i].Status, steps[i].Inferred = StatusDone, true
				break
			}
		}
	}
	next := false
	for i := range steps {
		if steps[i].Status == StatusDone || steps[i].Status == StatusSkipped {
			continue
		}
		if !next {
			steps[i].Status, next = StatusNext, true
		} else {
			steps[i].Status = StatusLater
		}
	}
	return steps
}

type planner struct {
	a     *answers.Answers
	st    State
	paths Paths
}

func (p planner) answersFile() string { return or(p.paths.AnswersFile, "answers.yaml") }
func (p planner) bundleDir() string   { return or(p.paths.BundleDir, "bundle") }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func status(done bool) Status {
	if done {
		return StatusDone
	}
	return StatusLater
}

// each reports whether ok holds for every domain, and lists the ones
// where it does not.
func (p planner) each(ok func(DomainState) bool) (bool, []string) {
	var missing []string
	for _, d := range p.st.Domains {
		if !ok(d) {
			missing = append(missing, d.Name)
		}
	}
	return len(missing) == 0 && len(p.st.Domains) > 0, missing
}

func (p planner) verifyDomain() Step {
	done, missing := p.each(func(d DomainState) bool { return d.MSVerify != "" })
	s := Step{N: 1, ID: StepVerifyDomain, Title: "Verify the domain in Microsoft 365", Status: status(done),
		Check: "the MS=ms… TXT record resolves at the apex and the admin center shows the domain as verified"}
	var lines []string
	for _, d := range p.st.Domains {
		if d.MSVerify != "" {
			lines = append(lines, d.Name+": "+d.MSVerify)
		}
	}
	if len(missing) > 0 {
		lines = append(lines, "no MS= TXT record at "+strings.Join(missing, ", "))
	}
	s.Detail = strings.Join(lines, "; ")
	var act []string
	act = append(act, "Microsoft 365 admin center → Settings → Domains → Add domain; then publish the TXT record it shows:")
	for _, d := range or2(missing, p.domainNames()) {
		act = append(act, fmt.Sprintf("  %s. TXT \"MS=ms########\"   (the value the admin center shows)", d))
	}
	act = append(act, "then press Verify in the admin center")
	s.Action = strings.Join(act, "\n")
	return s
}

func or2(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

func (p planner) domainNames() []string {
	var out []string
	for _, d := range p.a.Domains {
		out = append(out, d.Name)
	}
	return out
}

func (p planner) lowerTTL() Step {
	done, _ := p.each(func(d DomainState) bool {
		return d.MXTTL != 0 && d.MXTTL <= LowTTL && d.SPFTTL != 0 && d.SPFTTL <= LowTTL && d.CachedTTL <= LowTTL
	})
	s := Step{N: 2, ID: StepLowerTTL, Title: fmt.Sprintf("Lower the MX and SPF TTLs to %d and wait out the old TTL", LowTTL), Status: status(done),
		Check: fmt.Sprintf("the authoritative servers give TTL ≤ %d for MX and SPF, and no resolver still caches them longer", LowTTL)}
	var det, act []string
	for _, d := range p.st.Domains {
		det = append(det, fmt.Sprintf("%s: MX TTL %d, SPF TTL %d, resolvers cache up to %ds", d.Name, d.MXTTL, d.SPFTTL, d.CachedTTL))
		act = append(act, fmt.Sprintf("set the TTL of the MX and the SPF TXT records of %s to %d at your DNS provider", d.Name, LowTTL))
		if old := max(d.MXTTL, d.SPFTTL, d.CachedTTL); old > LowTTL {
			act = append(act, fmt.Sprintf("  then wait %ds (the old TTL) before the next step", old))
		}
	}
	s.Detail, s.Action = strings.Join(det, "; "), strings.Join(act, "\n")
	return s
}

func (p planner) spfInclude() Step {
	done, missing := p.each(func(d DomainState) bool { return d.SPFInclude })
	s := Step{N: 3, ID: StepSPFInclude, Title: "Add include:" + answers.Office365SPFInclude + " to SPF", Status: status(done),
		Check: "sendready check --answers " + p.answersFile() + " shows spf pass"}
	var det, act []string
	for _, d := range p.st.Domains {
		if d.SPF == "" {
			det = append(det, d.Name+": no SPF record")
		} else {
			det = append(det, d.Name+": "+d.SPF)
		}
		if slices.Contains(missing, d.Name) {
			act = append(act, fmt.Sprintf("%s. TXT \"%s\"", d.Name, p.newSPF(d)))
		}
	}
	if len(act) == 0 {
		act = append(act, "nothing: every SPF record has include:"+answers.Office365SPFInclude)
	}
	s.Detail, s.Action = strings.Join(det, "; "), strings.Join(act, "\n")
	return s
}

// newSPF is the domain's SPF record with the Office 365 include added
// before the all mechanism (or a new record with this server's addresses).
func (p planner) newSPF(d DomainState) string {
	inc := records.IncludeTerm(answers.Office365SPFInclude)
	if d.SPF != "" {
		if spf, err := records.ParseSPF(d.SPF); err == nil {
			i := slices.IndexFunc(spf.Terms, func(t records.SPFTerm) bool {
				return t.Mechanism == records.MechAll || t.Modifier == records.ModRedirect
			})
			if i < 0 {
				i = len(spf.Terms)
			}
			spf.Terms = slices.Insert(slices.Clone(spf.Terms), i, inc)
			return spf.String()
		}
	}
	var terms []records.SPFTerm
	for _, s := range append(slices.Clone(p.a.Server.IPv4), p.a.Server.IPv6...) {
		if ip, err := netip.ParseAddr(s); err == nil {
			terms = append(terms, records.IPTerm(ip))
		}
	}
	terms = append(terms, inc, records.AllTerm(records.SoftFail))
	return records.SPF{Terms: terms}.String()
}

func (p planner) script() string {
	if p.a.Relay.Mode == answers.ModeOffice365SMTPAuth {
		return filepath.Join(p.bundleDir(), office365.SMTPAuthPath)
	}
	return filepath.Join(p.bundleDir(), office365.ConnectorPath)
}

func (p planner) connector() Step {
	s := Step{N: 4, ID: StepConnector, Title: "Create the inbound connector in Exchange Online", Status: StatusLater,
		Action: "in PowerShell with the ExchangeOnlineManagement module, as an Exchange administrator:\n  " + p.script(),
		Check:  "Get-InboundConnector shows the connector \"sendready " + p.a.Server.Hostname + "\" enabled (sendready cannot see this; it counts as done once relayhost is switched)"}
	if p.a.Relay.Mode == answers.ModeOffice365SMTPAuth {
		s.Title = "Allow SMTP AUTH for the relay mailbox in Exchange Online"
		s.Check = "Get-CASMailbox " + p.a.Relay.Office365.Username + " shows SmtpClientAuthenticationDisabled False (sendready cannot see this; it counts as done once relayhost is switched)"
	}
	return s
}

func (p planner) relayhost() Step {
	want := p.a.Relay.RelayHost()
	done := p.st.PostconfError == "" && sameRelay(p.st.Relayhost, want)
	s := Step{N: 5, ID: StepRelayhost, Title: "Switch Postfix's relayhost to Office 365", Status: status(done),
		Action: "sendready apply --bundle " + p.bundleDir() + "   (sets relayhost = " + want + ")",
		Check:  "postconf -h relayhost prints " + want}
	switch {
	case p.st.PostconfError != "":
		s.Detail = "postconf failed: " + p.st.PostconfError
	case p.st.Relayhost == "":
		s.Detail = "relayhost is unset: Postfix sends directly"
	default:
		s.Detail = "relayhost = " + p.st.Relayhost
	}
	return s
}

// sameRelay compares relayhost values, ignoring case and a trailing dot.
func sameRelay(a, b string) bool {
	n := func(s string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), ".]", "]") }
	return a != "" && n(a) == n(b)
}

func (p planner) testMessage() Step {
	dom := "example.com"
	if len(p.a.Domains) > 0 {
		dom = p.a.Domains[0].Name
	}
	return Step{N: 6, ID: StepTestMessage, Title: "Send a test message through the relay", Status: StatusLater,
		Action: fmt.Sprintf("printf 'Subject: relay test\\n\\ntest\\n' | sendmail -f postmaster@%s someone@an-outside-mailbox.example\n  then paste the received message's headers into: sendready explain -", dom),
		Check:  "mail.log shows relay=" + strings.Trim(strings.Split(p.a.Relay.RelayHost(), "]")[0], "[") + " status=sent, and the headers show spf=pass and dkim=pass (sendready cannot see this; it counts as done once MX is switched)"}
}

func (p planner) dkim() Step {
	done, missing := p.each(func(d DomainState) bool {
		for _, sel := range []string{"selector1", "selector2"} {
			got := d.DKIM[sel]
			if got == "" {
				return false
			}
			if want := p.a.Relay.Office365.DKIMCNAMEs[sel]; want != "" && !strings.EqualFold(strings.TrimSuffix(want, "."), got) {
				return false
			}
		}
		return true
	})
	s := Step{N: 7, ID: StepDKIM, Title: "Enable Office 365 DKIM", Status: status(done),
		Check: "selector1._domainkey and selector2._domainkey of every domain resolve as CNAMEs, then Get-DkimSigningConfig shows Enabled True"}
	var det, act []string
	for _, d := range p.st.Domains {
		for _, sel := range []string{"selector1", "selector2"} {
			if t := d.DKIM[sel]; t != "" {
				det = append(det, fmt.Sprintf("%s._domainkey.%s → %s", sel, d.Name, t))
			}
		}
		if slices.Contains(missing, d.Name) {
			for _, sel := range []string{"selector1", "selector2"} {
				target := p.a.Relay.Office365.DKIMCNAMEs[sel]
				if target == "" {
					target = fmt.Sprintf("%s-%s._domainkey.<tenant>.onmicrosoft.com   (Get-DkimSigningConfig -Identity %s | Format-List Selector1CNAME,Selector2CNAME)", sel, strings.ReplaceAll(d.Name, ".", "-"), d.Name)
				} else {
					target = strings.TrimSuffix(target, ".") + "."
				}
				act = append(act, fmt.Sprintf("%s._domainkey.%s. CNAME %s", sel, d.Name, target))
			}
		}
	}
	act = append(act, "then: "+p.script()+" -EnableDkim   (or Set-DkimSigningConfig -Identity <domain> -Enabled $true)")
	if len(det) == 0 {
		det = append(det, "no selector1/selector2 CNAMEs")
	}
	s.Detail, s.Action = strings.Join(det, "; "), strings.Join(act, "\n")
	return s
}

func (p planner) mx() Step {
	s := Step{N: 8, ID: StepMX, Title: "Point MX at Office 365", Check: "sendready check --answers " + p.answersFile() + " shows mx pass"}
	if o := p.a.Relay.Office365.MXToOffice365; o != nil && !*o {
		s.Status, s.Detail, s.Action = StatusSkipped, "relay.office365.mx_to_office365 is false: mail keeps arriving where it does", "nothing"
		return s
	}
	done, missing := p.each(func(d DomainState) bool { return d.MXOffice365 })
	s.Status = status(done)
	var det, act []string
	for _, d := range p.st.Domains {
		det = append(det, d.Name+" MX "+or(strings.Join(d.MX, ", "), "none"))
		if slices.Contains(missing, d.Name) {
			for _, ad := range p.a.Domains {
				if ad.Name == d.Name {
					for _, h := range p.a.MXHosts(ad) {
						act = append(act, fmt.Sprintf("%s. MX 0 %s.   (replacing the current MX)", d.Name, h))
					}
				}
			}
		}
	}
	if len(act) == 0 {
		act = append(act, "nothing: MX points at Office 365")
	}
	s.Detail, s.Action = strings.Join(det, "; "), strings.Join(act, "\n")
	return s
}

func (p planner) restoreTTL() Step {
	target := uint32(p.a.DNS.TTL)
	if target == 0 {
		target = 3600
	}
	// The TTLs are restored at the end: after the MX move, or without one
	// once relayhost and DKIM are switched.
	var mxDone bool
	if o := p.a.Relay.Office365.MXToOffice365; o == nil || *o {
		mxDone, _ = p.each(func(d DomainState) bool { return d.MXOffice365 })
	} else {
		mxDone = p.relayhost().Status == StatusDone && p.dkim().Status == StatusDone
	}
	restored, _ := p.each(func(d DomainState) bool { return d.MXTTL >= target && d.SPFTTL >= target })
	s := Step{N: 9, ID: StepRestoreTTL, Title: fmt.Sprintf("Restore the TTLs (%d)", target), Status: status(mxDone && (restored || target <= LowTTL)),
		Action: fmt.Sprintf("set the TTL of the MX and SPF records back to %d (dns.ttl of the answers)", target),
		Check:  fmt.Sprintf("the authoritative servers give TTL %d for MX and SPF", target)}
	var det []string
	for _, d := range p.st.Domains {
		det = append(det, fmt.Sprintf("%s: MX TTL %d, SPF TTL %d", d.Name, d.MXTTL, d.SPFTTL))
	}
	s.Detail = strings.Join(det, "; ")
	return s
}

// marks are the checklist's status marks.
var marks = map[Status]string{StatusDone: "✓", StatusNext: "→", StatusLater: "·", StatusSkipped: "-"}

// WriteChecklist writes the steps as a checklist: ✓ done, → next (with
// what was seen, the action and the check), · later; then what could not be
// looked at, and how many steps are done.
func WriteChecklist(w io.Writer, steps []Step, st State) {
	for _, s := range steps {
		title := s.Title
		if s.Inferred {
			title += " (taken as done: a later step is)"
		}
		fmt.Fprintf(w, "%s %d  %s\n", marks[s.Status], s.N, title)
		if s.Status == StatusNext {
			if s.Detail != "" {
				writeIndented(w, "     now:   ", s.Detail)
			}
			writeIndented(w, "     do:    ", s.Action)
			writeIndented(w, "     check: ", s.Check)
		}
	}
	if st.PostconfError != "" {
		fmt.Fprintf(w, "! postconf: %s\n", st.PostconfError)
	}
	for _, d := range st.Domains {
		for _, e := range d.Errors {
			fmt.Fprintf(w, "! %s: no answer: %s\n", d.Name, e)
		}
	}
	done := 0
	for _, s := range steps {
		if s.Status == StatusDone || s.Status == StatusSkipped {
			done++
		}
	}
	if done == len(steps) {
		fmt.Fprintln(w, "\nEvery step is done: mail relays through Office 365.")
	} else {
		cmd := "sendready migrate office365"
		if st.Paths.AnswersFile != "" {
			cmd += " --answers " + shell.Quote(st.Paths.AnswersFile)
		}
		if st.Paths.BundleDir != "" {
			cmd += " --bundle " + shell.Quote(st.Paths.BundleDir)
		}
		fmt.Fprintf(w, "\n%d of %d steps done. After each step, see what is next with\n  %s\n", done, len(steps), cmd)
	}
}

// writeIndented writes text under a label, its later lines aligned with
// the first.
func writeIndented(w io.Writer, label, text string) {
	pad := strings.Repeat(" ", len([]rune(label)))
	for i, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if i == 0 {
			fmt.Fprintln(w, label+l)
		} else {
			fmt.Fprintln(w, pad+l)
		}
	}
}
