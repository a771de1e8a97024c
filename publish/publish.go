// Package publish pushes a bundle's DNS records through a DNS provider: it
// loads dns/records.json zone by zone, opens the provider the answers name,
// plans every zone, pushes the plans and reads each zone again to prove what
// was applied. The dns command and the wizard both use it.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/sendready/sendready/internal/shell"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/providers/cloudflare"
	"github.com/sendready/sendready/providers/rfc2136"
	"github.com/sendready/sendready/records"
)

// CloudflareTokenEnv names the environment variable holding the Cloudflare
// API token when no token file is given.
const CloudflareTokenEnv = "CLOUDFLARE_API_TOKEN"

// Settings say which provider to open and how. Empty fields come from the
// answers (dns.provider, dns.rfc2136).
type Settings struct {
	Provider string // cloudflare or rfc2136
	// rfc2136
	Server   string
	TSIGFile string
	// cloudflare
	TokenFile string
	APIURL    string
	// AnswersFile locates a relative dns.rfc2136.tsig_key_file.
	AnswersFile string
}

// ProviderName is the provider settings and answers select, lower case.
func ProviderName(s Settings, a *answers.Answers) string {
	return strings.ToLower(firstNonEmpty(s.Provider, a.DNS.Provider))
}

// Open builds the provider from the settings and answers, and describes it
// for a plan's heading (never with a secret). Its errors name the setting to
// fix.
func Open(s Settings, a *answers.Answers) (providers.Provider, string, error) {
	switch name := ProviderName(s, a); name {
	case answers.ProviderRFC2136:
		server := firstNonEmpty(s.Server, a.DNS.RFC2136.Server)
		if server == "" {
			return nil, "", errors.New("rfc2136: no server: set dns.rfc2136.server in the answers or pass --server ADDR:PORT")
		}
		addr, err := hostPort(server)
		if err != nil {
			return nil, "", fmt.Errorf("rfc2136 server %q (dns.rfc2136.server or --server): %w", server, err)
		}
		keyFile := s.TSIGFile
		if keyFile == "" {
			keyFile = strings.TrimSpace(a.DNS.RFC2136.TSIGKeyFile)
			if keyFile != "" && !filepath.IsAbs(keyFile) && s.AnswersFile != "" {
				// Relative to the answers file, which names it.
				keyFile = filepath.Join(filepath.Dir(s.AnswersFile), keyFile)
			}
		}
		if keyFile == "" {
			return nil, "", errors.New("rfc2136: no TSIG key: set dns.rfc2136.tsig_key_file in the answers or pass --tsig-file FILE")
		}
		key, err := rfc2136.ReadKeyFile(keyFile)
		if err != nil {
			return nil, "", err
		}
		p, err := rfc2136.New(rfc2136.Config{Server: addr, Key: key})
		if err != nil {
			return nil, "", err
		}
		return p, fmt.Sprintf("rfc2136 at %s, %s", addr, key), nil
	case answers.ProviderCloudflare:
		token, from := os.Getenv(CloudflareTokenEnv), CloudflareTokenEnv
		tokenFile := s.TokenFile
		if tokenFile == "" && token == "" {
			tokenFile = strings.TrimSpace(a.DNS.Cloudflare.TokenFile)
			if tokenFile != "" && !filepath.IsAbs(tokenFile) && s.AnswersFile != "" {
				tokenFile = filepath.Join(filepath.Dir(s.AnswersFile), tokenFile)
			}
		}
		if tokenFile != "" {
			b, err := os.ReadFile(tokenFile)
			if err != nil {
				return nil, "", fmt.Errorf("cloudflare token file: %w", err)
			}
			token, from = strings.TrimSpace(string(b)), tokenFile
		}
		if token == "" {
			return nil, "", fmt.Errorf("cloudflare: no API token: set %s or give a token file (a token with the Zone:Read and DNS:Edit permissions)", CloudflareTokenEnv)
		}
		p, err := cloudflare.New(cloudflare.Config{Token: token, APIURL: s.APIURL})
		if err != nil {
			return nil, "", err
		}
		desc := "cloudflare, token from " + from
		if s.APIURL != "" {
			desc += ", API " + s.APIURL
		}
		return p, desc, nil
	case "", answers.ProviderManual:
		return nil, "", fmt.Errorf("dns.provider is %q: set it to cloudflare or rfc2136 to publish through an API; by hand, use the bundle's dns/<zone>.txt",
			firstNonEmpty(name, answers.ProviderManual))
	default:
		return nil, "", fmt.Errorf("DNS provider %q: use cloudflare or rfc2136", name)
	}
}

// hostPort normalises ADDR[:PORT] (default port 53).
func hostPort(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(ip, 53).String(), nil
	}
	return "", errors.New("write an IP address, optionally with :PORT")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}

// Zone is one zone's records from dns/records.json.
type Zone struct {
	Name    string
	Records []records.Record
}

// LoadZones reads the bundle's dns/records.json, grouped by zone in the
// order the zones first appear. PTR records are left out: the address owner
// sets them.
func LoadZones(bundleDir string) ([]Zone, error) {
	path := filepath.Join(bundleDir, "dns", "records.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the records: %w", err)
	}
	var recs []records.Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var zones []Zone
	for _, r := range recs {
		if r.Type == records.TypePTR {
			continue
		}
		if _, err := r.RR(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		i := 0
		for i < len(zones) && zones[i].Name != r.Zone {
			i++
		}
		if i == len(zones) {
			zones = append(zones, Zone{Name: r.Zone})
		}
		zones[i].Records = append(zones[i].Records, r)
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("%s holds no records to publish", path)
	}
	return zones, nil
}

// Plans reads every zone through prov and plans it.
func Plans(ctx context.Context, prov providers.Provider, zones []Zone, opts providers.Options) ([]providers.Plan, error) {
	plans := make([]providers.Plan, 0, len(zones))
	for _, z := range zones {
		have, err := prov.Read(ctx, z.Name, providers.Names(z.Records))
		if err != nil {
			return nil, fmt.Errorf("reading zone %s: %w", z.Name, err)
		}
		p, err := providers.MakePlan(z.Name, z.Records, have, opts)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// Reread reads p's zone again and compares it with the plan.
func Reread(ctx context.Context, prov providers.Provider, p providers.Plan) ([]string, error) {
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

// WritePlan writes one zone's plan: a heading, then per record the
// action, type, name and value, and why.
func WritePlan(w io.Writer, p providers.Plan, provider string) {
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

// WriteDiffs says whether a pushed zone, read back, holds what the plan
// says, and lists every difference.
func WriteDiffs(w io.Writer, zone string, diffs []string) {
	if len(diffs) == 0 {
		fmt.Fprintf(w, "Pushed zone %s; read back, it holds exactly what the plan says.\n", zone)
		return
	}
	fmt.Fprintf(w, "Zone %s read back differs from the plan:\n", zone)
	for _, d := range diffs {
		fmt.Fprintf(w, "  %s\n", d)
	}
}

// ErrReadBack: a pushed zone, read again, differs from its plan.
var ErrReadBack = errors.New("publish: the zones read back differ from the plan")

// Push applies each pending plan, reads its zone again and writes the
// comparison to w. It stops at the first failure, saying which zones were
// pushed before it; when the provider may have applied part of a zone, it
// writes what the zone holds now.
func Push(ctx context.Context, w io.Writer, prov providers.Provider, plans []providers.Plan) error {
	var applied []string
	differs := false
	for _, p := range plans {
		if !p.Pending() {
			continue
		}
		if err := prov.Apply(ctx, p); err != nil {
			done := "no zone was changed"
			if len(applied) > 0 {
				done = "applied before: " + strings.Join(applied, ", ")
			}
			if !errors.Is(err, providers.ErrChanged) && !errors.Is(err, providers.ErrConflict) {
				if diffs, rerr := Reread(ctx, prov, p); rerr == nil {
					WriteDiffs(w, p.Zone, diffs)
				}
			}
			return fmt.Errorf("pushing zone %s: %w (%s)", p.Zone, err, done)
		}
		applied = append(applied, p.Zone)
		diffs, err := Reread(ctx, prov, p)
		if err != nil {
			return fmt.Errorf("zone %s was pushed, but reading it again failed: %w", p.Zone, err)
		}
		differs = differs || len(diffs) > 0
		WriteDiffs(w, p.Zone, diffs)
	}
	if differs {
		return fmt.Errorf("%w (see above)", ErrReadBack)
	}
	return nil
}

// Args are the --answers and --bundle arguments of a suggested command
// line, quoted for the shell where needed.
func Args(answersFile, bundleDir string) string {
	return "--answers " + shell.Quote(answersFile) + " --bundle " + shell.Quote(bundleDir)
}
