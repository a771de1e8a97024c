package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/publish"
)

// ExitPlanPending is dns plan's exit code when changes are pending (and
// none is in conflict).
const ExitPlanPending = 4

type dnsOptions struct {
	AnswersFile string
	BundleDir   string
	Provider    string
	// rfc2136
	Server   string
	TSIGFile string
	// cloudflare
	TokenFile string
	APIURL    string

	Force bool
	Yes   bool
}

func newDNSCmd(s Streams) *cobra.Command {
	opts := &dnsOptions{}
	cmd := &cobra.Command{
		Use:   "dns (plan|push) --answers FILE --bundle DIR [--provider cloudflare|rfc2136]",
		Short: "Publish the bundle's DNS records through Cloudflare or RFC 2136 dynamic update",
		Long: `dns publishes the records of a generated bundle (dns/records.json) through
the DNS provider of the answers file (dns.provider, dns.rfc2136); flags
override it.

"dns plan" reads what each zone holds and prints, per record, create,
update (old → new), unchanged or conflict, and why. "dns push" applies the
plan after confirmation (--yes for scripts), reads every record again and
compares it with the plan.

The plan never duplicates an SPF record: sendready's senders are merged
into the one there is, before its all, keeping its qualifier (-all stays
-all; a record ending in redirect= gets no all). It never weakens a
published DMARC policy, never touches other TXT records (site
verifications, MS=), and owns the domain's MX set, the mail host's A/AAAA
records and its DKIM selector: records there that are not the bundle's are
conflicts, replaced only with --force.

rfc2136 signs updates with a TSIG key read from --tsig-file (a BIND key
file, or one line [algorithm:]name:secret); cloudflare reads its API token
from --token-file or the CLOUDFLARE_API_TOKEN environment variable. Secrets
are never taken from the command line and never printed.

Exit codes: 0 nothing to do, or pushed and verified; 1 a conflict, a failed
push (nothing was changed, or the re-read shows what was) or a re-read that
differs from the plan; 2 bad usage or input; 4 (plan only) changes pending.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return withCode(ExitUsage, errors.New("dns: give a subcommand: plan or push"))
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&opts.AnswersFile, "answers", "", "answers file: the DNS provider and its settings (dns.provider, dns.rfc2136)")
	f.StringVar(&opts.BundleDir, "bundle", "", "bundle directory made by generate: its dns/records.json holds the records, with the DKIM keys")
	f.StringVar(&opts.Provider, "provider", "", "cloudflare or rfc2136 (default: dns.provider of the answers)")
	f.StringVar(&opts.Server, "server", "", "rfc2136: the primary server, ADDR[:PORT] (default: dns.rfc2136.server)")
	f.StringVar(&opts.TSIGFile, "tsig-file", "", "rfc2136: TSIG key file (default: dns.rfc2136.tsig_key_file)")
	f.StringVar(&opts.TokenFile, "token-file", "", "cloudflare: file holding the API token (default: the "+publish.CloudflareTokenEnv+" environment variable)")
	f.StringVar(&opts.APIURL, "api-url", "", "cloudflare: API base URL (default: Cloudflare's)")
	f.BoolVar(&opts.Force, "force", false, "replace records sendready does not own and allow weakening a DMARC policy")

	plan := &cobra.Command{
		Use:   "plan --answers FILE --bundle DIR",
		Short: "Show what push would change in each zone",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return runDNS(c.Context(), opts, s, false) },
	}
	push := &cobra.Command{
		Use:   "push --answers FILE --bundle DIR [--yes]",
		Short: "Apply the plan, then read every record again to prove it",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return runDNS(c.Context(), opts, s, true) },
	}
	push.Flags().BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	cmd.AddCommand(plan, push)
	return cmd
}

// dnsInputs loads the answers and the bundle's records, zone by zone.
func dnsInputs(opts *dnsOptions) (*answers.Answers, []publish.Zone, error) {
	switch {
	case opts.AnswersFile == "":
		return nil, nil, errors.New("--answers FILE is required: it names the DNS provider (dns.provider) and its settings")
	case opts.BundleDir == "":
		return nil, nil, errors.New("--bundle DIR is required: the records, with the DKIM keys, come from the bundle's dns/records.json (made by sendready generate)")
	}
	a, err := answers.Load(opts.AnswersFile)
	if err != nil {
		return nil, nil, err
	}
	a.Defaults(time.Now())
	if _, err := a.Validate(); err != nil {
		return nil, nil, err
	}
	zones, err := publish.LoadZones(opts.BundleDir)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (run sendready generate --answers %s --out %s first)", err, opts.AnswersFile, opts.BundleDir)
	}
	return a, zones, nil
}

func runDNS(ctx context.Context, opts *dnsOptions, s Streams, push bool) error {
	a, zones, err := dnsInputs(opts)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	settings := publish.Settings{Provider: opts.Provider, Server: opts.Server, TSIGFile: opts.TSIGFile,
		TokenFile: opts.TokenFile, APIURL: opts.APIURL, AnswersFile: opts.AnswersFile}
	name := publish.ProviderName(settings, a)
	if name != answers.ProviderCloudflare && name != answers.ProviderRFC2136 && opts.Provider != "" {
		return withCode(ExitUsage, fmt.Errorf("--provider %q: use cloudflare or rfc2136", opts.Provider))
	}
	prov, desc, err := publish.Open(settings, a)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	plans, err := publish.Plans(ctx, prov, zones, providers.Options{Force: opts.Force})
	if err != nil {
		return withCode(ExitFailed, err)
	}
	conflicts, pending := 0, 0
	for _, p := range plans {
		publish.WritePlan(s.Out, p, desc)
		conflicts += len(p.Conflicts())
		if p.Pending() {
			pending++
		}
	}
	if conflicts > 0 {
		return withCode(ExitFailed, fmt.Errorf("%d conflicts (see why above): nothing %s; resolve them, or pass --force where it says so", conflicts, map[bool]string{true: "was pushed", false: "can be pushed"}[push]))
	}
	if pending == 0 {
		fmt.Fprintln(s.Out, "Nothing to do: the zones hold every record of the bundle.")
		return nil
	}
	if !push {
		fmt.Fprintf(s.Out, "Changes pending in %d zone(s): run sendready dns push %s to apply them.\n", pending, dnsArgs(opts))
		return withCode(ExitPlanPending, errors.New("changes pending"))
	}
	if !opts.Yes {
		ok, err := confirm(s, fmt.Sprintf("Push these changes to %d zone(s) through %s? [y/N] ", pending, name))
		if err != nil {
			return withCode(ExitFailed, err)
		}
		if !ok {
			return withCode(ExitFailed, errors.New("not confirmed: nothing was pushed"))
		}
	}
	return pushPlans(ctx, prov, plans, opts, s)
}

// pushPlans pushes the plans and, when every zone reads back as planned,
// suggests the live check.
func pushPlans(ctx context.Context, prov providers.Provider, plans []providers.Plan, opts *dnsOptions, s Streams) error {
	if err := publish.Push(ctx, s.Out, prov, plans); err != nil {
		return withCode(ExitFailed, err)
	}
	fmt.Fprintf(s.Out, "Next: sendready check --wait %s\n", dnsArgs(opts))
	return nil
}

// dnsArgs repeats the --answers and --bundle arguments for a suggested
// command line.
func dnsArgs(opts *dnsOptions) string { return publish.Args(opts.AnswersFile, opts.BundleDir) }

// confirm asks question on stderr and reads y or yes from stdin.
func confirm(s Streams, question string) (bool, error) {
	fmt.Fprint(s.Err, question)
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
