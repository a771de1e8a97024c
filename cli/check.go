package cli

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dkimkeys"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generate"
)

// ExitPending is check's exit code when nothing failed but something is
// still propagating (also when --wait times out while pending).
const ExitPending = 3

type checkOptions struct {
	AnswersFile   string
	BundleDir     string
	Domains       []string
	Hostname      string
	IPs           []string
	MX            []string
	Selectors     []string
	DKIMKeys      []string
	Office365     bool
	SMTP          string
	DNSBL         bool
	JSON          bool
	Wait          bool
	Timeout       time.Duration
	QueryTimeout  time.Duration
	Resolvers     []string
	Authoritative []string
}

func newCheckCmd(s Streams) *cobra.Command {
	opts := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check (--answers FILE [--bundle DIR] | --domain DOMAIN ...)",
		Short: "Check the mail DNS records live on every authoritative server and public resolvers",
		Long: `check looks up every mail record — A/AAAA and PTR of the mail host, MX,
SPF, DKIM, DMARC, and the zone's SOA serials — on each authoritative server
of the zone and on public resolvers, and says for each what is wrong and
the exact record to publish.

With --answers it checks what the answers promise (with --bundle, the
published DKIM keys must be the bundle's). With --domain it audits any
domain; add what you know with --hostname, --ip, --mx, --selector.

Exit codes: 0 nothing failed or pending (warnings allowed), 1 something
failed, 2 bad usage or input, 3 nothing failed but something is still
propagating (also when --wait times out while pending).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCheck(cmd.Context(), opts, s) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.AnswersFile, "answers", "", "answers file: check everything it promises")
	f.StringVar(&opts.BundleDir, "bundle", "", "generated bundle: the published DKIM keys must match its keys")
	f.StringSliceVar(&opts.Domains, "domain", nil, "domain to audit without an answers file (repeatable)")
	f.StringVar(&opts.Hostname, "hostname", "", "with --domain: the mail server's host name")
	f.StringSliceVar(&opts.IPs, "ip", nil, "with --domain: a sending address (repeatable)")
	f.StringSliceVar(&opts.MX, "mx", nil, "with --domain: an expected MX host (repeatable)")
	f.StringSliceVar(&opts.Selectors, "selector", nil, "with --domain: a DKIM selector (repeatable; default: probe the common ones)")
	f.StringSliceVar(&opts.DKIMKeys, "dkim-key", nil, "with --domain: PEM private or public key the published record must match (repeatable, paired with --selector in order)")
	f.BoolVar(&opts.Office365, "office365", false, "with --domain: expect the Office 365 MX and SPF include")
	f.StringVar(&opts.SMTP, "smtp", "", "probe this SMTP server (ADDR:PORT): its banner and EHLO name must be the host name")
	f.BoolVar(&opts.DNSBL, "dnsbl", false, "also look the sending addresses up on zen.spamhaus.org and bl.spamcop.net")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document (see docs/check-json.md)")
	f.BoolVar(&opts.Wait, "wait", false, "re-check until everything passes or --timeout")
	f.DurationVar(&opts.Timeout, "timeout", 30*time.Minute, "with --wait: give up after this long")
	f.DurationVar(&opts.QueryTimeout, "query-timeout", 2*time.Second, "timeout of one DNS query (retried once)")
	f.StringSliceVar(&opts.Resolvers, "resolver", nil, "recursive resolver ADDR[:PORT] (repeatable; replaces 1.1.1.1, 8.8.8.8, 9.9.9.9, 208.67.222.222)")
	f.StringSliceVar(&opts.Authoritative, "authoritative", nil, "authoritative server ADDR[:PORT] (repeatable; replaces NS discovery)")
	return cmd
}

func runCheck(ctx context.Context, opts *checkOptions, s Streams) error {
	exps, err := checkExpectations(opts)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	cfg := dnscheck.Config{Timeout: opts.QueryTimeout}
	if cfg.Resolvers, err = serverList("--resolver", opts.Resolvers); err != nil {
		return withCode(ExitUsage, err)
	}
	if cfg.Authoritative, err = serverList("--authoritative", opts.Authoritative); err != nil {
		return withCode(ExitUsage, err)
	}
	checker := dnscheck.New(cfg)
	deadline := time.Now().Add(opts.Timeout)
	var rep dnscheck.Report
	for round := 1; ; round++ {
		rep = checker.Round(ctx, exps)
		if !opts.Wait || rep.Status != dnscheck.StatusFail && rep.Status != dnscheck.StatusPending {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			fmt.Fprintf(s.Err, "check: --timeout %s reached\n", opts.Timeout)
			break
		}
		next := min(rep.NextPoll(), left)
		fmt.Fprintf(s.Err, "check: round %d: %s; next check in %s\n", round, summary(rep), next.Round(time.Second))
		select {
		case <-ctx.Done():
		case <-time.After(next):
		}
		if ctx.Err() != nil {
			break
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return withCode(ExitFailed, err)
		}
	} else {
		printReport(s, rep)
	}
	switch rep.Status {
	case dnscheck.StatusFail:
		return withCode(ExitFailed, errors.New("some checks failed"))
	case dnscheck.StatusPending:
		return withCode(ExitPending, errors.New("some records are still propagating"))
	}
	return nil
}

func checkExpectations(opts *checkOptions) ([]dnscheck.Expect, error) {
	domainFlags := len(opts.IPs) > 0 || len(opts.MX) > 0 || len(opts.Selectors) > 0 || len(opts.DKIMKeys) > 0 || opts.Hostname != "" || opts.Office365
	switch {
	case opts.AnswersFile != "" && len(opts.Domains) > 0:
		return nil, errors.New("give either --answers or --domain, not both")
	case opts.AnswersFile == "" && len(opts.Domains) == 0:
		return nil, errors.New("nothing to check: give --answers FILE or --domain DOMAIN")
	case opts.AnswersFile != "" && domainFlags:
		return nil, errors.New("--hostname, --ip, --mx, --selector, --dkim-key and --office365 go with --domain; with --answers the answers file says these")
	}
	var exps []dnscheck.Expect
	if opts.AnswersFile != "" {
		a, err := answers.Load(opts.AnswersFile)
		if err != nil {
			return nil, err
		}
		a.Defaults(time.Now())
		if _, err := a.Validate(); err != nil {
			return nil, err
		}
		keys, err := generate.PublicKeys(a, opts.BundleDir)
		if err != nil {
			return nil, err
		}
		exps = dnscheck.FromAnswers(a, keys)
		if override := heloOverride(); override != "" {
			for i := range exps {
				exps[i].HELOOverride = override
			}
		}
	} else {
		f := dnscheck.Flags{Domains: opts.Domains, Hostname: opts.Hostname, MX: opts.MX, Selectors: opts.Selectors, Office365: opts.Office365}
		for _, s := range opts.IPs {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("--ip %q: not an IP address", s)
			}
			f.IPs = append(f.IPs, ip)
		}
		for _, p := range opts.DKIMKeys {
			k, err := readKey(p)
			if err != nil {
				return nil, fmt.Errorf("--dkim-key %s: %w", p, err)
			}
			f.Keys = append(f.Keys, k)
		}
		var err error
		if exps, err = dnscheck.FromFlags(f, time.Now()); err != nil {
			return nil, err
		}
	}
	for i := range exps {
		exps[i].SMTP = opts.SMTP
		exps[i].DNSBL = opts.DNSBL
	}
	return exps, nil
}

// readKey reads a PEM private or public key, or a DKIM p= value.
func readKey(path string) (crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if k, err := dkimkeys.ParsePEM(data); err == nil {
		return k.Public(), nil
	}
	return dkimkeys.ParsePublic(string(data))
}

// heloOverride returns smtp_helo_name from this machine's Postfix when it is
// set to something other than $myhostname.
func heloOverride() string {
	out, err := exec.Command("postconf", "-h", "smtp_helo_name").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(out))
	if v == "" || v == "$myhostname" {
		return ""
	}
	return v
}

// serverList normalises ADDR[:PORT] flags to host:port.
func serverList(flag string, in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			out = append(out, ap.String())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
			out = append(out, net.JoinHostPort(ip.String(), "53"))
			continue
		}
		return nil, fmt.Errorf("%s %q: write an IP address, optionally with :PORT (like 127.0.0.1:5353 or [::1]:53)", flag, s)
	}
	return out, nil
}
