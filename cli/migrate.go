package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generators/office365"
	"github.com/sendready/sendready/migrate"
)

type migrateOptions struct {
	AnswersFile   string
	BundleDir     string
	ConfigDir     string
	JSON          bool
	QueryTimeout  time.Duration
	Resolvers     []string
	Authoritative []string
}

// migrateDeps are what tests replace (nil: the real postconf).
var migrateDeps struct {
	postconf func(configDir string) migrate.Postconf
}

func newMigrateCmd(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Plan a move of this server's mail to another provider, step by step",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCode(ExitUsage, errors.New("migrate needs a target: sendready migrate office365 --answers FILE"))
		},
	}
	cmd.AddCommand(newMigrateOffice365Cmd(s))
	return cmd
}

func newMigrateOffice365Cmd(s Streams) *cobra.Command {
	opts := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "office365 --answers FILE [--bundle DIR]",
		Short: "Move a Postfix that sends directly to relaying through Office 365: the steps, and which are done",
		Long: `migrate office365 lists the ordered steps that move a Postfix server which
sends directly today to relaying through Office 365, each with the check
that must be green before the next:

  1 verify the domain in Microsoft 365 (its MS=ms… TXT record)
  2 lower the MX and SPF TTLs to 300 and wait out the old TTL
  3 add include:spf.protection.outlook.com to SPF
  4 create the inbound connector (office365/connector.ps1 of the bundle)
  5 switch relayhost (sendready apply)
  6 send a test message through the relay
  7 enable Office 365 DKIM (selector1/selector2 CNAMEs)
  8 point MX at Office 365
  9 restore the TTLs

It reads relayhost with "postconf -n" and looks the records up live, so
running it again shows what is done (✓), the next step (→) with the exact
command or record, and what comes later (·). The answers must use relay
mode office365-connector or office365-smtp-auth.

--json prints {"steps": [{"n", "id", "title", "status", "inferred",
"detail", "action", "check"}], "state": {...}}.

Exit codes: 0 every step is done, 2 bad usage or answers that are not an
Office 365 mode, 3 the migration is in progress (some step is not done).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMigrate(cmd.Context(), opts, s) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.AnswersFile, "answers", "", "answers file (relay.mode office365-connector or office365-smtp-auth)")
	f.StringVar(&opts.BundleDir, "bundle", "", "the generated bundle (for office365/connector.ps1)")
	f.StringVar(&opts.ConfigDir, "config-dir", "", "Postfix configuration directory (postconf -c); default: Postfix's own")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	f.DurationVar(&opts.QueryTimeout, "query-timeout", 2*time.Second, "timeout of one DNS query (retried once)")
	f.StringSliceVar(&opts.Resolvers, "resolver", nil, "recursive resolver ADDR[:PORT] (repeatable)")
	f.StringSliceVar(&opts.Authoritative, "authoritative", nil, "authoritative server ADDR[:PORT] (repeatable; replaces NS discovery)")
	_ = cmd.MarkFlagRequired("answers")
	return cmd
}

// migrateOutput is the JSON document of migrate office365 --json.
type migrateOutput struct {
	Steps []migrate.Step `json:"steps"`
	State migrate.State  `json:"state"`
}

func runMigrate(ctx context.Context, opts *migrateOptions, s Streams) error {
	a, err := answers.Load(opts.AnswersFile)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	a.Defaults(time.Now())
	if err := migrate.Check(a); err != nil {
		return withCode(ExitUsage, fmt.Errorf("%s: %w", opts.AnswersFile, err))
	}
	if _, err := a.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	if opts.BundleDir != "" {
		script := office365.ConnectorPath
		if a.Relay.Mode == answers.ModeOffice365SMTPAuth {
			script = office365.SMTPAuthPath
		}
		if _, err := os.Stat(filepath.Join(opts.BundleDir, script)); err != nil {
			return withCode(ExitUsage, fmt.Errorf("--bundle %s has no %s: run sendready generate --answers %s --out %s", opts.BundleDir, script, opts.AnswersFile, opts.BundleDir))
		}
	}
	cfg := dnscheck.Config{Timeout: opts.QueryTimeout}
	if cfg.Resolvers, err = serverList("--resolver", opts.Resolvers); err != nil {
		return withCode(ExitUsage, err)
	}
	if cfg.Authoritative, err = serverList("--authoritative", opts.Authoritative); err != nil {
		return withCode(ExitUsage, err)
	}
	pc := migrate.RunPostconf
	if migrateDeps.postconf != nil {
		pc = migrateDeps.postconf
	}
	st := migrate.Detect(ctx, a, dnscheck.NewEngine(cfg), pc(opts.ConfigDir))
	st.Paths = migrate.Paths{AnswersFile: opts.AnswersFile, BundleDir: opts.BundleDir}
	steps := migrate.Plan(ctx, a, st)

	if opts.JSON {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(migrateOutput{Steps: steps, State: st}); err != nil {
			return withCode(ExitFailed, err)
		}
	} else {
		fmt.Fprintln(s.Out, "Migration to Office 365")
		migrate.WriteChecklist(s.Out, steps, st)
	}
	for _, st := range steps {
		if st.Status == migrate.StatusNext {
			return withCode(ExitPending, fmt.Errorf("migration in progress: next is step %d, %s", st.N, st.Title))
		}
	}
	return nil
}
