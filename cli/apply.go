package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/apply"
)

type applyOptions struct {
	Bundle string
	Root   string
	DryRun bool
	Yes    bool
	Force  bool
}

// applyDeps are what tests replace: this machine's name, the clock and
// the command runner (nil: the real ones).
var applyDeps struct {
	hostname func() (string, error)
	now      func() time.Time
	run      func(ctx context.Context, name string, args ...string) ([]byte, error)
}

func newApplyCmd(s Streams) *cobra.Command {
	opts := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply --bundle DIR [--root /] [--dry-run] [--yes] [--force]",
		Short: "Install a generated bundle: back up, write, check, reload (undo with rollback)",
		Long: `apply installs a bundle made by "sendready generate": the OpenDKIM files
and keys, the Postfix maps, master.cf services and main.cf settings (one
postconf call; settings you already use, such as smtpd_milters, are merged).
Every file it touches is backed up under /var/backups/sendready/<time>/
first; postfix check and opendkim -n run before anything is reloaded, and
if either fails every file is put back. A second apply of the same bundle
changes nothing and says "no changes".

It refuses (and changes nothing) when the bundle was made for another
--root or another host (--force), when a bundle file was edited by hand
(--force), when not run as root, when a package is missing, or when
postfix/sasl_passwd still holds the placeholder password.

Exit codes: 0 done or no changes, 1 refused or failed (and everything put
back), 2 usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runApply(cmd.Context(), opts, s) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Bundle, "bundle", "", "bundle directory (made by sendready generate)")
	f.StringVar(&opts.Root, "root", "/", "install under this prefix; must be the --root the bundle was generated with")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the diff of every file and the commands, change nothing")
	f.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	f.BoolVar(&opts.Force, "force", false, "apply hand-edited bundle files, or a bundle made for another host name")
	_ = cmd.MarkFlagRequired("bundle")
	return cmd
}

func runApply(ctx context.Context, opts *applyOptions, s Streams) error {
	if !filepath.IsAbs(opts.Root) {
		return withCode(ExitUsage, fmt.Errorf("--root %q: must be an absolute path", opts.Root))
	}
	_, err := apply.Apply(ctx, apply.Options{
		Bundle: opts.Bundle, Root: filepath.Clean(opts.Root), DryRun: opts.DryRun, Yes: opts.Yes, Force: opts.Force,
		In: s.In, Out: s.Out, Err: s.Err,
		Now: applyDeps.now, Run: applyDeps.run, Hostname: applyDeps.hostname,
	})
	return applyExit(err)
}

// applyExit maps apply's errors to exit codes: refused (apply.ErrRefused),
// failed and restored (apply.ErrFailed), or anything else that stopped it
// is 1; usage errors were returned before.
func applyExit(err error) error {
	if err == nil {
		return nil
	}
	return withCode(ExitFailed, err)
}

type rollbackOptions struct {
	Root string
	Yes  bool
}

func newRollbackCmd(s Streams) *cobra.Command {
	opts := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback [--root /] [--yes] [TIMESTAMP]",
		Short: "Restore the files of an apply from its backup (default: the latest)",
		Long: `rollback restores every file an apply touched from its backup under
/var/backups/sendready/TIMESTAMP/ (default: the latest), byte for byte with
its mode and owner, and removes the files that apply created. Then it runs
postfix check and opendkim -n, and reloads like apply; if a check fails,
the files are put back as they were before the rollback.

Exit codes: 0 done or no changes, 1 refused or failed, 2 usage.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ts := ""
			if len(args) == 1 {
				ts = args[0]
				if _, err := time.Parse(apply.TimestampFormat, ts); err != nil {
					return withCode(ExitUsage, fmt.Errorf("TIMESTAMP %q: want a backup directory name such as 20261122T140000Z", ts))
				}
			}
			return runRollback(cmd.Context(), opts, ts, s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Root, "root", "/", "the --root the bundle was applied to")
	f.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation")
	return cmd
}

func runRollback(ctx context.Context, opts *rollbackOptions, ts string, s Streams) error {
	if !filepath.IsAbs(opts.Root) {
		return withCode(ExitUsage, fmt.Errorf("--root %q: must be an absolute path", opts.Root))
	}
	_, err := apply.Rollback(ctx, apply.RollbackOptions{
		Root: filepath.Clean(opts.Root), Timestamp: ts, Yes: opts.Yes,
		In: s.In, Out: s.Out, Err: s.Err, Run: applyDeps.run,
	})
	return applyExit(err)
}
