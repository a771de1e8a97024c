package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/explain"
)

type explainOptions struct {
	Check         bool
	JSON          bool
	QueryTimeout  time.Duration
	Resolvers     []string
	Authoritative []string
}

func newExplainCmd(s Streams) *cobra.Command {
	opts := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain [FILE|-] [--check]",
		Short: "Explain a bounce or a message's authentication headers: what failed and which record fixes it",
		Long: `explain reads a bounce (a delivery status notification, or an SMTP error
pasted from a log) or the headers of a received message
(Authentication-Results, ARC-Authentication-Results, Received-SPF,
DKIM-Signature, Received) from FILE, or standard input when FILE is "-" or
missing, and says for each problem what failed, the likely causes, the
record or setting that fixes it and the sendready command that verifies it.

It knows Gmail's 5.7.26 (unauthenticated) and DMARC rejections, SPF
failures (550 5.7.1 ... SPF, 5.7.23), DKIM "bad signature" and body-hash
failures, DMARC failures, Outlook.com's 5.7.515, and Office 365's 5.7.64
TenantAttribution, 5.7.68 RejectDirectSend, 5.7.57, 5.7.139 and 5.2.252
SendAsDenied.

With --check it also runs the live checks of the domains, selectors and
sending address found in the input (as "sendready check --domain") and
prints them below.

--json prints {"findings": [{"code", "severity", "title", "explanation",
"fix", "verify", "domain", "selector", "ip", "evidence"}], "facts": {...},
"check": <the check report, with --check>}; the codes are stable.

Exit codes: 0 something was explained (with --check: and no live check
failed or is pending), 1 the input holds nothing explain recognises, or
(with --check) a live check failed, 2 bad usage or an unreadable file,
3 (with --check) nothing failed but a record is still propagating.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			return runExplain(cmd.Context(), opts, file, s)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Check, "check", false, "also run the live DNS checks of what the input names")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	f.DurationVar(&opts.QueryTimeout, "query-timeout", 2*time.Second, "with --check: timeout of one DNS query (retried once)")
	f.StringSliceVar(&opts.Resolvers, "resolver", nil, "with --check: recursive resolver ADDR[:PORT] (repeatable)")
	f.StringSliceVar(&opts.Authoritative, "authoritative", nil, "with --check: authoritative server ADDR[:PORT] (repeatable; replaces NS discovery)")
	return cmd
}

// explainOutput is the JSON document of explain --json.
type explainOutput struct {
	Findings []explain.Finding `json:"findings"`
	Facts    explain.Facts     `json:"facts"`
	Check    *dnscheck.Report  `json:"check,omitempty"`
}

func runExplain(ctx context.Context, opts *explainOptions, file string, s Streams) error {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(s.In, 32<<20))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("reading %s: %w", file, err))
	}
	if !opts.Check && (len(opts.Resolvers) > 0 || len(opts.Authoritative) > 0) {
		return withCode(ExitUsage, errors.New("--resolver and --authoritative go with --check"))
	}
	res := explain.Explain(data)
	out := explainOutput{Findings: res.Findings, Facts: res.Facts}

	var rep *dnscheck.Report
	var checkErr error
	if opts.Check && len(res.Findings) > 0 {
		exps, err := explainExpectations(res)
		if err != nil {
			checkErr = withCode(ExitUsage, err)
		} else {
			cfg := dnscheck.Config{Timeout: opts.QueryTimeout}
			if cfg.Resolvers, err = serverList("--resolver", opts.Resolvers); err != nil {
				return withCode(ExitUsage, err)
			}
			if cfg.Authoritative, err = serverList("--authoritative", opts.Authoritative); err != nil {
				return withCode(ExitUsage, err)
			}
			r := dnscheck.New(cfg).Round(ctx, exps)
			rep = &r
			out.Check = rep
		}
	}

	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return withCode(ExitFailed, err)
		}
	} else {
		printFindings(s.Out, res)
		if rep != nil {
			fmt.Fprintln(s.Out, "\nLive checks:")
			printReport(s, *rep)
		}
	}

	switch {
	case len(res.Findings) == 0:
		return withCode(ExitFailed, errors.New("nothing recognised: give a bounce, an SMTP error or the message's headers (Authentication-Results, Received-SPF, DKIM-Signature)"))
	case checkErr != nil:
		return checkErr
	case rep != nil && rep.Status == dnscheck.StatusFail:
		return withCode(ExitFailed, errors.New("some live checks failed"))
	case rep != nil && rep.Status == dnscheck.StatusPending:
		return withCode(ExitPending, errors.New("some records are still propagating"))
	}
	return nil
}

// explainExpectations turns the domains, selectors and sending address
// of the input into check expectations (as check --domain would).
func explainExpectations(res explain.Result) ([]dnscheck.Expect, error) {
	targets := res.Targets()
	if len(targets) == 0 {
		return nil, errors.New("--check: the input names no sender domain; run sendready check --domain YOUR-DOMAIN")
	}
	var exps []dnscheck.Expect
	for _, t := range targets {
		f := dnscheck.Flags{Domains: []string{t.Domain}, Hostname: t.Hostname, Selectors: t.Selectors}
		if ip, err := netip.ParseAddr(strings.Trim(t.IP, "[]")); err == nil {
			f.IPs = []netip.Addr{ip}
		}
		e, err := dnscheck.FromFlags(f, time.Now())
		if err != nil {
			return nil, err
		}
		exps = append(exps, e...)
	}
	return exps, nil
}

// printFindings writes the findings as text: a symbol and the title, then
// why, the fix and the command that verifies it.
func printFindings(w io.Writer, res explain.Result) {
	sym := map[explain.Severity]string{explain.SeverityFail: "✗", explain.SeverityWarn: "!", explain.SeverityInfo: "✓"}
	if len(res.Findings) == 0 {
		fmt.Fprintln(w, "Nothing recognised: no SMTP error, DSN or authentication header that explain knows.")
		return
	}
	for i, f := range res.Findings {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s  [%s]\n", sym[f.Severity], f.Title, f.Code)
		if f.Evidence != "" {
			fmt.Fprintf(w, "  seen:   %s\n", f.Evidence)
		}
		writeIndented(w, "  why:    ", f.Explanation)
		writeIndented(w, "  fix:    ", f.Fix)
		if f.Verify != "" {
			fmt.Fprintf(w, "  verify: %s\n", f.Verify)
		}
	}
}

func writeIndented(w io.Writer, label, text string) {
	for i, line := range strings.Split(text, "\n") {
		if i == 0 {
			fmt.Fprintf(w, "%s%s\n", label, line)
		} else {
			fmt.Fprintf(w, "%*s%s\n", len(label), "", line)
		}
	}
}
