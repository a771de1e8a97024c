// Package cli holds sendready's commands. Each command has an options
// struct and a run function that takes its I/O streams, so tests run them
// in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command; scripts rely on them.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the command ran and something failed or was refused
	ExitUsage    = 2 // bad flags or invalid answers: nothing was done
	ExitConflict = 3 // generate: a refused overwrite, or an I/O error
)

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// Run executes sendready with args and returns the exit code.
func Run(version string, args []string, s Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(version, s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(s.Err, "sendready:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitUsage // cobra's own errors: unknown flags, bad arguments
}

func newRootCmd(version string, s Streams) *cobra.Command {
	wopts := &wizardOptions{}
	root := &cobra.Command{
		Use:   "sendready",
		Short: "Set up DKIM, SPF, DMARC and relaying for a Postfix mail server",
		Long: `sendready asks about your mail server, generates DKIM keys, OpenDKIM and
Postfix configuration and the DNS records to publish, for direct sending,
relaying into Office 365, relaying through a smarthost, or relaying for
other servers, then checks DNS live until every record is right.

Run without a command, it starts the wizard.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          func(cmd *cobra.Command, _ []string) error { return runWizard(cmd.Context(), wopts, version, s) },
	}
	addWizardFlags(root, wopts)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetVersionTemplate("sendready {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(ExitUsage, err) })
	root.AddCommand(newGenerateCmd(version, s), newCheckCmd(s), newApplyCmd(s), newRollbackCmd(s),
		newExplainCmd(s), newMigrateCmd(s), newDNSCmd(s))
	return root
}
