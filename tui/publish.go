package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/migrate"
	"github.com/sendready/sendready/providers"
	"github.com/sendready/sendready/publish"
)

// The publishing and migration work the Publish and Office 365 screens and
// the accessible wizard share: the same orchestration as `sendready dns`
// and `sendready migrate office365`, writing text for a person.

// opener opens the answers' DNS provider (publish.Open).
type opener func(publish.Settings, *answers.Answers) (providers.Provider, string, error)

// migrationDetector looks at this server and the domains' records
// (migrate.Detect).
type migrationDetector func(context.Context, *answers.Answers) migrate.State

// providerOpener is opts' opener: publish.Open unless a test set one.
func providerOpener(opts Options) opener {
	if opts.openProvider != nil {
		return opts.openProvider
	}
	return publish.Open
}

// migrationState is opts' detector: postconf -n on this machine and the
// records through the checker's servers, unless a test set one.
func migrationState(opts Options) migrationDetector {
	if opts.detectMigration != nil {
		return opts.detectMigration
	}
	return func(ctx context.Context, a *answers.Answers) migrate.State {
		return migrate.Detect(ctx, a, dnscheck.NewEngine(opts.Check), migrate.RunPostconf(""))
	}
}

// isOffice365 reports whether the answers relay into Office 365: the
// wizard then shows the migration checklist.
func isOffice365(a *answers.Answers) bool { return a.Relay.IsOffice365() }

// planned is every zone's plan through an opened provider.
type planned struct {
	prov  providers.Provider
	desc  string
	plans []providers.Plan
}

// pending counts the zones with changes to push.
func (p planned) pending() int {
	n := 0
	for _, pl := range p.plans {
		if pl.Pending() {
			n++
		}
	}
	return n
}

// conflicts counts the changes sendready will not make on its own.
func (p planned) conflicts() int {
	n := 0
	for _, pl := range p.plans {
		n += len(pl.Conflicts())
	}
	return n
}

// text is the plans as `sendready dns plan` prints them.
func (p planned) text() string {
	var b strings.Builder
	for _, pl := range p.plans {
		publish.WritePlan(&b, pl, p.desc)
	}
	return b.String()
}

// planZones opens the provider and plans every zone of the bundle.
func planZones(ctx context.Context, open opener, a *answers.Answers, answersPath, bundleDir string) (planned, error) {
	prov, desc, err := open(publish.Settings{AnswersFile: answersPath}, a)
	if err != nil {
		return planned{}, err
	}
	zones, err := publish.LoadZones(bundleDir)
	if err != nil {
		return planned{}, err
	}
	plans, err := publish.Plans(ctx, prov, zones, providers.Options{})
	if err != nil {
		return planned{}, err
	}
	return planned{prov: prov, desc: desc, plans: plans}, nil
}

// publishHint says what to do about a failed plan or push.
func publishHint(err error) string {
	if errors.Is(err, providers.ErrChanged) {
		return "The zone changed between the plan and the push, so nothing was applied: plan again and look at the new plan."
	}
	return "Fix the file or setting the message names, then try again."
}

// conflictText explains why nothing is pushed when a plan has conflicts.
func conflictText(n int, opts Options) string {
	return fmt.Sprintf("%d conflict(s), marked conflict above: nothing is pushed. The line \"why\" under each says what to do; "+
		"sendready dns push --force resolves those that --force can (replacing records sendready does not own, or weakening a DMARC policy):\n"+
		"  sendready dns push --force %s", n, dnsArgs(opts))
}

// dnsArgs are the --answers and --bundle arguments for a suggested command.
func dnsArgs(opts Options) string { return publish.Args(opts.AnswersPath, opts.BundleDir) }

// checklistText is the migration checklist as migrate office365 prints it.
func checklistText(steps []migrate.Step, st migrate.State, opts Options) string {
	var b strings.Builder
	st.Paths = migrate.Paths{AnswersFile: opts.AnswersPath, BundleDir: opts.BundleDir}
	migrate.WriteChecklist(&b, steps, st)
	return b.String()
}

// Messages of the publishing and migration Cmds.
type (
	planDoneMsg struct {
		seq int
		res planned
		err error
	}
	pushDoneMsg struct {
		seq  int
		text string // the read-back comparison of each pushed zone
		err  error
	}
	migrateDoneMsg struct {
		seq   int
		state migrate.State
	}
)

func planCmd(ctx context.Context, seq int, open opener, a *answers.Answers, opts Options) tea.Cmd {
	return func() tea.Msg {
		res, err := planZones(ctx, open, a, opts.AnswersPath, opts.BundleDir)
		return planDoneMsg{seq: seq, res: res, err: err}
	}
}

func pushCmd(ctx context.Context, seq int, res planned) tea.Cmd {
	return func() tea.Msg {
		var b strings.Builder
		err := publish.Push(ctx, &b, res.prov, res.plans)
		return pushDoneMsg{seq: seq, text: b.String(), err: err}
	}
}

func migrateCmd(ctx context.Context, seq int, detect migrationDetector, a *answers.Answers) tea.Cmd {
	return func() tea.Msg { return migrateDoneMsg{seq: seq, state: detect(ctx, a)} }
}

// migrationSteps plans the migration from what was detected, with the
// commands naming the wizard's answers file and bundle.
func migrationSteps(a *answers.Answers, st migrate.State, opts Options) []migrate.Step {
	st.Paths = migrate.Paths{AnswersFile: opts.AnswersPath, BundleDir: opts.BundleDir}
	return migrate.Plan(context.Background(), a, st)
}
