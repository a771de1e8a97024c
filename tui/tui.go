// Package tui is the wizard: one root model with a state per screen, huh
// forms for the questions, and the dnsrecords and dashboard screens, with
// publishing through the DNS provider (Cloudflare, RFC 2136) and the Office
// 365 migration checklist between them. It holds no mail or DNS logic of its
// own: answers, generate, publish, migrate and dnscheck do the work, in
// tea.Cmds.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
	"github.com/sendready/sendready/dnscheck"
)

// Options configure a wizard run.
type Options struct {
	// Answers pre-fills every question (--resume / --answers); nil starts
	// from detection.
	Answers *answers.Answers
	// AnswersPath is where answers are saved (./sendready-answers.yaml).
	AnswersPath string
	// BundleDir is the bundle directory (--out).
	BundleDir string
	// Check configures the dashboard's checker (--resolver, --authoritative).
	Check dnscheck.Config
	// Accessible runs huh's accessible line prompts and the plain dashboard.
	Accessible bool
	// In and Out are the terminal: the wizard renders to Out (stderr).
	In  io.Reader
	Out io.Writer
	// Version is recorded in the bundle.
	Version string
	// Rand is the key source (crypto/rand.Reader; tests seed it).
	Rand io.Reader
	// Now is the clock.
	Now func() time.Time
	// System is what detection looks at (detect.Local() for the real machine).
	System detect.System
	// Color is false under NO_COLOR or TERM=dumb.
	Color bool

	// openProvider and detectMigration replace publish.Open and
	// migrate.Detect in tests (nil: the real ones).
	openProvider    opener
	detectMigration migrationDetector
}

// Run runs the wizard until the admin finishes or quits. It returns the
// exit code: 0 when the checks ended all green or the admin chose to stop
// after writing the bundle, 1 on failure, 130 when quit with Ctrl-C (answers
// saved).
func Run(ctx context.Context, opts Options) (int, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Out == nil {
		opts.Out = os.Stderr
	}
	if opts.In == nil {
		opts.In = os.Stdin
	}
	if opts.Accessible {
		return runAccessible(ctx, opts)
	}
	m := newModel(ctx, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(opts.In), tea.WithOutput(opts.Out)}
	if !opts.Color {
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	p := tea.NewProgram(m, popts...)

	// An SSH drop sends SIGHUP, which Bubble Tea leaves alone: save and quit.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		if _, ok := <-hup; ok {
			p.Send(hangupMsg{})
		}
	}()

	final, err := p.Run()
	fm, _ := final.(*model)
	if fm == nil {
		fm = m
	}
	return finish(fm, opts, err)
}

// finish saves the answers when the admin quit before the bundle was
// written, and turns the program's end into an exit code.
func finish(fm *model, opts Options, err error) (int, error) {
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, tea.ErrInterrupted) || errors.Is(err, context.Canceled) {
		fm.quit, fm.exitCode = true, exitInterrupt
		fm.save = fm.page.s < stateRecords
		err = nil
	}
	if fm.save {
		if serr := saveAnswers(opts.AnswersPath, fm.d.answers()); serr != nil {
			return exitFailed, serr
		}
		fmt.Fprintf(opts.Out, "Answers saved to %s (never the password): run sendready --resume to carry on.\n", opts.AnswersPath)
	}
	if err != nil {
		return exitFailed, err
	}
	if !fm.quit {
		return exitFailed, errors.New("the wizard ended unexpectedly")
	}
	return fm.exitCode, nil
}
