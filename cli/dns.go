package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/providers/cloudflare"
	"github.com/sendready/sendready/providers/rfc2136"
	"github.com/sendready/sendready/records"
)

// ExitPlanPending is dns plan's exit code when changes are pending (and
// none is in conflict).
const ExitPlanPending = 4

// cloudflareTokenEnv names the environment variable holding the
// Cloudflare API token when --token-file is not given.
const cloudflareTokenEnv = "CLOUDFLARE_API_TOKEN"

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
	f.StringVar(&opts.TokenFile, "token-file", "", "cloudflare: file holding the API token (default: the "+cloudflareTokenEnv+" environment variable)")
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

// dnsProvider builds the provider named name (already checked to be
// cloudflare or rfc2136) from the flags and answers, and describes it for
// the plan's heading. Its errors are usage errors.
func dnsProvider(name string, opts *dnsOptions, a *answers.Answers) (providers.Provider, string, error) {
	switch name {
	case answers.ProviderRFC2136:
		server := firstNonEmpty(opts.Server, a.DNS.RFC2136.Server)
		if server == "" {
			return nil, "", errors.New("rfc2136: no server: set dns.rfc2136.server in the answers or pass --server ADDR:PORT")
		}
		addrs, err := serverList("--server", []string{server})
		if err != nil {
			return nil, "", err
		}
		keyFile := opts.TSIGFile
		if keyFile == "" {
			keyFile = strings.TrimSpace(a.DNS.RFC2136.TSIGKeyFile)
			if keyFile != "" && !filepath.IsAbs(keyFile) {
				// Relative to the answers file, which names it.
				keyFile = filepath.Join(filepath.Dir(opts.AnswersFile), keyFile)
			}
		}
		if keyFile == "" {
			return nil, "", errors.New("rfc2136: no TSIG key: set dns.rfc2136.tsig_key_file in the answers or pass --tsig-file FILE")
		}
		key, err := rfc2136.ReadKeyFile(keyFile)
		if err != nil {
			return nil, "", err
		}
		p, err := rfc2136.New(rfc2136.Config{Server: addrs[0], Key: key})
		if err != nil {
			return nil, "", err
		}
		return p, fmt.Sprintf("rfc2136 at %s, %s", addrs[0], key), nil
	case answers.ProviderCloudflare:
		token, from := os.Getenv(cloudflareTokenEnv), cloudflareTokenEnv
		if opts.TokenFile != "" {
			b, err := os.ReadFile(opts.TokenFile)
			if err != nil {
				return nil, "", fmt.Errorf("--token-file: %w", err)
			}
			token, from = strings.TrimSpace(string(b)), opts.TokenFile
		}
		if token == "" {
			return nil, "", fmt.Errorf("cloudflare: no API token: set %s or pass --token-file FILE (a token with the Zone:Read and DNS:Edit permissions)", cloudflareTokenEnv)
		}
		p, err := cloudflare.New(cloudflare.Config{Token: token, APIURL: opts.APIURL})
		if err != nil {
			return nil, "", err
		}
		desc := "cloudflare, token from " + from
		if opts.APIURL != "" {
			desc += ", API " + opts.APIURL
		}
		return p, desc, nil
	}
	return nil, "", fmt.Errorf("unknown DNS provider %q", name)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// zoneRecords is one zone's records from dns/records.json.
type zoneRecords struct {
	zone string
	recs []records.Record
}

// dnsInputs loads the answers and the bundle's records, grouped by zone in
// the order they first appear.
func dnsInputs(opts *dnsOptions) (*answers.Answers, []zoneRecords, error) {
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
	path := filepath.Join(opts.BundleDir, "dns", "records.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the records: %w (run sendready generate --answers %s --out %s first)", err, opts.AnswersFile, opts.BundleDir)
	}
	var recs []records.Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var zones []zoneRecords
	for _, r := range recs {
		if r.Type == records.TypePTR {
			continue // the address owner sets them
		}
		if _, err := r.RR(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		i := 0
		for i < len(zones) && zones[i].zone != r.Zone {
			i++
		}
		if i == len(zones) {
			zones = append(zones, zoneRecords{zone: r.Zone})
		}
		zones[i].recs = append(zones[i].recs, r)
	}
	if len(zones) == 0 {
		return nil, nil, fmt.Errorf("%s holds no records to publish", path)
	}
	return a, zones, nil
}

func runDNS(ctx context.Context, opts *dnsOptions, s Streams, push bool) error {
	a, zones, err := dnsInputs(opts)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	name := strings.ToLower(firstNonEmpty(opts.Provider, a.DNS.Provider))
	switch name {
	case answers.ProviderCloudflare, answers.ProviderRFC2136:
	case "", answers.ProviderManual:
		return withCode(ExitUsage, fmt.Errorf("dns.provider is %q: set it to cloudflare or rfc2136 in the answers, or pass --provider; to publish by hand, use %s",
			firstNonEmpty(name, answers.ProviderManual), filepath.Join(opts.BundleDir, "dns", "<zone>.txt")))
	default:
		return withCode(ExitUsage, fmt.Errorf("--provider %q: use cloudflare or rfc2136", name))
	}
	prov, desc, err := dnsProvider(name, opts, a)
	if err != nil {
		return withCode(ExitUsage, err)
	}

	plans := make([]providers.Plan, 0, len(zones))
	for _, z := range zones {
		have, err := prov.Read(ctx, z.zone, providers.Names(z.recs))
		if err != nil {
			return withCode(ExitFailed, fmt.Errorf("reading zone %s: %w", z.zone, err))
		}
		p, err := providers.MakePlan(z.zone, z.recs, have, providers.Options{Force: opts.Force})
		if err != nil {
			return withCode(ExitFailed, err)
		}
		plans = append(plans, p)
	}
	conflicts, pending := 0, 0
	for _, p := range plans {
		printPlan(s.Out, p, desc)
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

// pushPlans applies each pending plan, reads its zone again and compares.
func pushPlans(ctx context.Context, prov providers.Provider, plans []providers.Plan, opts *dnsOptions, s Streams) error {
	var applied []string
	failed := false
	for _, p := range plans {
		if !p.Pending() {
			continue
		}
		err := prov.Apply(ctx, p)
		if err != nil {
			done := "no zone was changed"
			if len(applied) > 0 {
				done = "applied before: " + strings.Join(applied, ", ")
			}
			if errors.Is(err, providers.ErrChanged) || errors.Is(err, providers.ErrConflict) {
				return withCode(ExitFailed, fmt.Errorf("pushing zone %s: %w (%s)", p.Zone, err, done))
			}
			fmt.Fprintf(s.Err, "dns: pushing zone %s failed: %v\n", p.Zone, err)
			// The provider may have applied part of it: show what the zone holds.
			if diffs, rerr := reread(ctx, prov, p); rerr == nil {
				printDiffs(s.Out, p.Zone, diffs)
			}
			return withCode(ExitFailed, fmt.Errorf("pushing zone %s: %w (%s)", p.Zone, err, done))
		}
		applied = append(applied, p.Zone)
		diffs, err := reread(ctx, prov, p)
		if err != nil {
			return withCode(ExitFailed, fmt.Errorf("zone %s was pushed, but reading it again failed: %w", p.Zone, err))
		}
		if len(diffs) > 0 {
			failed = true
		}
		printDiffs(s.Out, p.Zone, diffs)
	}
	if failed {
		return withCode(ExitFailed, errors.New("the zones read back differ from the plan (see above)"))
	}
	fmt.Fprintf(s.Out, "Next: sendready check --wait %s\n", dnsArgs(opts))
	return nil
}

// reread reads p's zone again and compares it with the plan.
func reread(ctx context.Context, prov providers.Provider, p providers.Plan) ([]string, error) {
	var names []records.Record
	for _, c := range p.Changes {
		if c.New.Name != "" {
			names = append(names, c.New)
		}
		if c.Old != nil {
			names = append(names, c.Old.Record)
		}
	}
	now, err := prov.Read(ctx, p.Zone, providers.Names(names))
	if err != nil {
		return nil, err
	}
	return providers.Verify(p, now), nil
}

func printDiffs(w io.Writer, zone string, diffs []string) {
	if len(diffs) == 0 {
		fmt.Fprintf(w, "Pushed zone %s; read back, it holds exactly what the plan says.\n", zone)
		return
	}
	fmt.Fprintf(w, "Zone %s read back differs from the plan:\n", zone)
	for _, d := range diffs {
		fmt.Fprintf(w, "  %s\n", d)
	}
}

// dnsArgs repeats the --answers and --bundle arguments for a suggested
// command line.
func dnsArgs(opts *dnsOptions) string {
	return "--answers " + shellQuote(opts.AnswersFile) + " --bundle " + shellQuote(opts.BundleDir)
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[](){};&|<>~#") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

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

// printPlan writes one zone's plan: a heading, then per record the
// action, type, name and value, and why.
func printPlan(w io.Writer, p providers.Plan, provider string) {
	fmt.Fprintf(w, "Zone %s (%s): %s\n", p.Zone, provider, p.Summary())
	for _, c := range p.Changes {
		r := c.New
		if c.Action == providers.Delete || c.Action == providers.Conflict && c.Old != nil {
			r = c.Old.Record
		}
		fmt.Fprintf(w, "  %-9s  %-5s  %s\n", c.Action, r.Type, r.Name)
		switch c.Action {
		case providers.Update:
			fmt.Fprintf(w, "             old: %s\n", planValue(c.Old.Record))
			fmt.Fprintf(w, "             new: %s\n", planValue(c.New))
		case providers.Conflict:
			if c.Old != nil {
				fmt.Fprintf(w, "             has:  %s\n", planValue(c.Old.Record))
			}
			if c.New.Name != "" {
				fmt.Fprintf(w, "             want: %s %s\n", c.New.Type, planValue(c.New))
			}
		default:
			fmt.Fprintf(w, "             %s\n", planValue(r))
		}
		fmt.Fprintf(w, "             why: %s\n", c.Why)
	}
	fmt.Fprintln(w)
}

// planValue is a record's data as the plan shows it: TXT quoted and
// whole, MX with its preference, with the TTL.
func planValue(r records.Record) string {
	v := r.Value
	switch r.Type {
	case records.TypeTXT:
		v = fmt.Sprintf("%q", r.Value)
	case records.TypeMX:
		v = fmt.Sprintf("%d %s", r.Priority, r.Value)
	}
	return fmt.Sprintf("%s (TTL %d)", v, r.TTL)
}
