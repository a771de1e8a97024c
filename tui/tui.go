// Package tui is the wizard: one root model with a state per screen, huh
// forms for the questions, and the dnsrecords and dashboard screens. It holds
// no mail or DNS logic of its own: answers, generate and dnscheck do the
// work, in tea.Cmds.
package tui

import (
	"context"
	"io"
	"time"

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
}

// Run runs the wizard until the admin finishes or quits. It returns the
// exit code: 0 when the checks ended all green or the admin chose to stop
// after writing the bundle, 1 on failure, 130 when quit with Ctrl-C (answers
// saved).
func Run(ctx context.Context, opts Options) (int, error) { panic("not implemented") }
