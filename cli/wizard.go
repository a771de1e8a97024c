package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/tui"
)

// DefaultAnswersPath is where the wizard saves answers unless --answers says.
const DefaultAnswersPath = "sendready-answers.yaml"

type wizardOptions struct {
	AnswersFile   string
	Resume        bool
	Out           string
	Accessible    bool
	Resolvers     []string
	Authoritative []string
}

func addWizardFlags(cmd *cobra.Command, opts *wizardOptions) {
	f := cmd.Flags()
	f.StringVar(&opts.AnswersFile, "answers", "", "answers file to start from and save to (default ./"+DefaultAnswersPath+")")
	f.BoolVar(&opts.Resume, "resume", false, "start again with every answer filled in from the saved answers file")
	f.StringVar(&opts.Out, "out", "sendready-bundle", "bundle directory the wizard writes")
	f.BoolVar(&opts.Accessible, "accessible", false, "line-by-line prompts for screen readers (also ACCESSIBLE=1 or TERM=dumb)")
	f.StringSliceVar(&opts.Resolvers, "resolver", nil, "recursive resolver ADDR[:PORT] for the live checks (repeatable)")
	f.StringSliceVar(&opts.Authoritative, "authoritative", nil, "authoritative server ADDR[:PORT] for the live checks (repeatable; replaces NS discovery)")
}

func runWizard(ctx context.Context, opts *wizardOptions, version string, s Streams) error {
	accessible := opts.Accessible || os.Getenv("ACCESSIBLE") != "" || os.Getenv("TERM") == "dumb"
	if !accessible && !isTerminal(s.In) {
		return withCode(ExitUsage, errors.New("the wizard needs a terminal: run it over SSH with a TTY, use --accessible for line prompts, or write an answers file and run `sendready generate`"))
	}
	path := opts.AnswersFile
	if path == "" {
		path = DefaultAnswersPath
	}
	var a *answers.Answers
	if opts.AnswersFile != "" || opts.Resume {
		var err error
		if a, err = answers.Load(path); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	cfg := dnscheck.Config{}
	var err error
	if cfg.Resolvers, err = serverList("--resolver", opts.Resolvers); err != nil {
		return withCode(ExitUsage, err)
	}
	if cfg.Authoritative, err = serverList("--authoritative", opts.Authoritative); err != nil {
		return withCode(ExitUsage, err)
	}
	code, err := tui.Run(ctx, tui.Options{
		Answers:     a,
		AnswersPath: path,
		BundleDir:   opts.Out,
		Check:       cfg,
		Accessible:  accessible,
		In:          s.In,
		Out:         s.Err,
		Version:     version,
		Rand:        rand.Reader,
		Now:         time.Now,
		System:      detect.Local(),
		Color:       os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
	})
	if err != nil {
		return withCode(max(code, ExitFailed), err)
	}
	if code != 0 {
		return withCode(code, fmt.Errorf("the wizard ended with exit code %d", code))
	}
	return nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
