package cli

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/generate"
)

type generateOptions struct {
	AnswersFile      string
	Out              string
	Root             string
	SASLPasswordFile string
	Tar              string
	IncludeSecrets   bool
	Force            bool
}

func newGenerateCmd(version string, s Streams) *cobra.Command {
	opts := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate --answers FILE --out DIR",
		Short: "Generate DKIM keys, Postfix and OpenDKIM configuration and DNS records into a bundle",
		Long: `generate reads an answers file and writes a bundle directory: DKIM keys,
OpenDKIM and Postfix configuration, DNS records in three forms, and a
README with the steps for your topology. Existing keys are reused, never
replaced; a file that differs is only overwritten with --force.

Exit codes: 0 done (warnings are printed), 2 invalid answers (every
problem is printed, nothing is written), 3 a refused overwrite or an I/O
error (nothing this run created is left behind).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runGenerate(opts, version, s) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.AnswersFile, "answers", "", "answers file (YAML)")
	f.StringVar(&opts.Out, "out", "", "bundle directory to write")
	f.StringVar(&opts.Root, "root", "/", "prefix for every absolute path inside the generated files (scratch trees, chroots)")
	f.StringVar(&opts.SASLPasswordFile, "sasl-password-file", "", "file holding the relay password for postfix/sasl_passwd (never pass it on the command line)")
	f.StringVar(&opts.Tar, "tar", "", "also write the bundle as this .tar.gz")
	f.BoolVar(&opts.IncludeSecrets, "include-secrets", false, "put sasl_passwd into the --tar archive too")
	f.BoolVar(&opts.Force, "force", false, "overwrite files that differ (private keys are never replaced)")
	_ = cmd.MarkFlagRequired("answers")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runGenerate(opts *generateOptions, version string, s Streams) error {
	if !filepath.IsAbs(opts.Root) {
		return withCode(ExitUsage, fmt.Errorf("--root %q: must be an absolute path", opts.Root))
	}
	a, err := answers.Load(opts.AnswersFile)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	generate.ReuseSelectors(a, opts.Out)
	a.Defaults(generate.Now())
	warnings, err := a.Validate()
	if err != nil {
		var ve *answers.ValidationError
		if errors.As(err, &ve) {
			ve.File = opts.AnswersFile
		}
		return withCode(ExitUsage, err)
	}
	for _, w := range warnings {
		fmt.Fprintln(s.Err, "warning:", w)
	}
	var password string
	if opts.SASLPasswordFile != "" {
		b, err := os.ReadFile(opts.SASLPasswordFile)
		if err != nil {
			return withCode(ExitUsage, fmt.Errorf("--sasl-password-file: %w", err))
		}
		password = strings.TrimRight(string(b), "\r\n")
		if password == "" || strings.ContainsAny(password, "\n\r") {
			return withCode(ExitUsage, fmt.Errorf("--sasl-password-file %s: must hold the password on one line", opts.SASLPasswordFile))
		}
	} else if a.Relay.UsesSASLClient() {
		fmt.Fprintln(s.Err, "warning: no --sasl-password-file: postfix/sasl_passwd holds a placeholder; the bundle README says what to fill in")
	}
	res, err := generate.Run(generate.Options{
		Answers: a, Out: opts.Out, Root: opts.Root, SASLPassword: password,
		Force: opts.Force, Version: version, Rand: rand.Reader,
	})
	switch {
	case errors.Is(err, generate.ErrKeys):
		return withCode(ExitUsage, err)
	case err != nil:
		return withCode(ExitConflict, err)
	}
	for _, p := range res.NewKeys {
		fmt.Fprintln(s.Err, "new DKIM key:", filepath.Join(opts.Out, p))
	}
	w := res.Write
	fmt.Fprintf(s.Err, "%s: %s\n", opts.Out, w.Summary())
	for _, p := range append(append([]string{}, w.Created...), w.Replaced...) {
		fmt.Fprintln(s.Out, filepath.Join(opts.Out, p))
	}
	if opts.Tar != "" {
		if err := writeTar(opts.Tar, res, opts.IncludeSecrets); err != nil {
			return withCode(ExitConflict, err)
		}
		fmt.Fprintln(s.Out, opts.Tar)
	}
	fmt.Fprintf(s.Err, "next: read %s\n", filepath.Join(opts.Out, "README.md"))
	return nil
}

// writeTar writes the archive 0600 (it holds private keys), never over an
// existing file.
func writeTar(path string, res generate.Result, includeSecrets bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--tar: %w", err)
	}
	err = bundle.WriteTar(f, res.Manifest, res.Files, includeSecrets, generate.Now())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("--tar %s: %w", path, err)
	}
	return nil
}
