package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"charm.land/huh/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/term"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/detect"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/publish"
	"github.com/sendready/sendready/tui/dashboard"
	"github.com/sendready/sendready/tui/dnsrecords"
)

// errInputEnded stops the accessible wizard when its input runs out
// before the bundle is written.
var errInputEnded = errors.New("tui: the input ended before the wizard finished")

// lineReader hands out one line per Read. huh's accessible prompts make a
// new bufio.Scanner per question, which would swallow the lines after the
// first from a pipe or a scripted reader; reading a byte at a time up to
// the newline leaves the rest for the next question.
type lineReader struct {
	r   io.Reader
	eof bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := l.r.Read(p[n : n+1])
		n += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				l.eof = true
			}
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if m == 1 && p[n-1] == '\n' {
			break
		}
	}
	return n, nil
}

// ttyLineReader is a lineReader on a terminal: huh reads passwords from
// its descriptor without echo.
type ttyLineReader struct {
	*lineReader
	fd uintptr
}

func (t ttyLineReader) Fd() uintptr { return t.fd }

// runAccessible asks the same pages as line prompts, then generates,
// prints the records and runs the plain dashboard.
func runAccessible(ctx context.Context, opts Options) (int, error) {
	out := &colorprofile.Writer{Forward: opts.Out, Profile: colorprofile.NoTTY}
	lr := &lineReader{r: opts.In}
	var in io.Reader = lr
	d := newDraft(opts.Answers, opts.Now())
	d.accessible = true
	if f, ok := opts.In.(*os.File); ok && term.IsTerminal(f.Fd()) {
		d.tty = true
		in = ttyLineReader{lineReader: lr, fd: f.Fd()}
	}
	quit := func(err error) (int, error) {
		if serr := saveAnswers(opts.AnswersPath, d.answers()); serr != nil {
			return exitFailed, serr
		}
		fmt.Fprintf(out, "Answers saved to %s (never the password): run sendready --resume --accessible to carry on.\n", opts.AnswersPath)
		return exitInterrupt, err
	}

	fmt.Fprintln(out, "sendready: looking at this machine…")
	det := detect.Detect(ctx, opts.System)
	d.detected(det)
	if det.OnlyPrivate {
		d.nat = "behind NAT"
	}
	fmt.Fprintln(out, foundText(det))
	fmt.Fprintln(out, "Every question has a default in [brackets]: press Enter to keep it.")

	header := func(p page) {
		n, total, name := d.step(p)
		fmt.Fprintf(out, "\n== Step %d of %d: %s ==\n", n, total, name)
	}

	p := page{s: stateServer}
	for {
		for p.s != stateReview {
			header(p)
			form := huh.NewForm(d.group(p)).WithAccessible(true).WithInput(in).WithOutput(out)
			if err := form.RunWithContext(ctx); err != nil {
				return quit(err)
			}
			d.clearDashes()
			if lr.eof {
				return quit(errInputEnded)
			}
			if ctx.Err() != nil {
				return quit(ctx.Err())
			}
			p = d.next(p)
		}
		a, warnings, probs := d.check()
		if len(probs) > 0 {
			fmt.Fprintln(out, "\nSome answers are refused:")
			for _, pr := range probs {
				fmt.Fprintln(out, "  ✗ "+pr.String())
			}
			p = d.pageFor(probs[0].Path)
			continue
		}
		gopts := generateOptions(a, d, opts, false)
		_, files, created, err := generate.Render(gopts)
		if err != nil {
			fmt.Fprintln(out, "\n✗ "+err.Error())
			p = page{s: stateServer}
			continue
		}
		header(page{s: stateReview})
		fmt.Fprint(out, reviewText(a, d.password() != "", warnings, opts, fileListText(files, created)))
		write := true
		confirm := huh.NewForm(huh.NewGroup(huh.NewConfirm().Title("Write the bundle to " + opts.BundleDir + "? (No goes back to the first question)").Value(&write))).
			WithAccessible(true).WithInput(in).WithOutput(out)
		if err := confirm.RunWithContext(ctx); err != nil {
			return quit(err)
		}
		if lr.eof {
			return quit(errInputEnded)
		}
		if !write {
			p = page{s: stateServer}
			continue
		}

		header(page{s: stateGenerate})
		o, err := runGenerate(gopts, opts.AnswersPath)
		if err != nil {
			fmt.Fprintln(out, "✗ The bundle was not written: "+err.Error())
			return exitFailed, err
		}
		fmt.Fprintf(out, "%s: %s\nAnswers saved to %s.\n", opts.BundleDir, o.res.Write.Summary(), opts.AnswersPath)
		header(page{s: stateRecords})
		fmt.Fprint(out, dnsrecords.Plain(o.recs, a.DNS.Provider))
		if publishes(a.DNS.Provider) {
			header(page{s: statePublish})
			publishPlain(ctx, out, in, a, opts)
		}
		if isOffice365(a) {
			header(page{s: stateMigrate})
			fmt.Fprintln(out, "Looking at Postfix (postconf -n) and the domains' records…")
			st := migrationState(opts)(ctx, a)
			fmt.Fprint(out, "Migration to Office 365\n"+checklistText(migrationSteps(a, st, opts), st, opts))
		}
		header(page{s: stateDashboard})
		rep := dashboard.Plain(ctx, out, dnscheck.New(opts.Check), o.exps, dashboard.Options{Now: opts.Now})
		if rep.Status == dnscheck.StatusFail || rep.Status == dnscheck.StatusPending {
			fmt.Fprintf(out, "\nChecks stopped before everything passed; run\n  sendready check --answers %s --bundle %s --wait\nto carry on.\n", opts.AnswersPath, opts.BundleDir)
		} else {
			fmt.Fprintln(out, "\nEvery check passes.")
		}
		fmt.Fprintf(out, "Next: read %s/README.md, then install it as root: sendready apply --bundle %s\n", strings.TrimSuffix(opts.BundleDir, "/"), opts.BundleDir)
		return exitOK, nil
	}
}

// publishPlain plans every zone through the answers' provider, prints the
// plan, and pushes it once the admin confirms.
func publishPlain(ctx context.Context, out io.Writer, in io.Reader, a *answers.Answers, opts Options) {
	later := "Later: sendready dns push " + dnsArgs(opts)
	fmt.Fprintf(out, "Reading the zones through %s…\n", a.DNS.Provider)
	res, err := planZones(ctx, providerOpener(opts), a, opts.AnswersPath, opts.BundleDir)
	if err != nil {
		fmt.Fprintf(out, "✗ Could not plan through %s: %v\n%s\n%s\n", a.DNS.Provider, err, publishHint(err), later)
		return
	}
	fmt.Fprint(out, res.text())
	switch n := res.conflicts(); {
	case n > 0:
		fmt.Fprintln(out, "✗ "+conflictText(n, opts))
		return
	case res.pending() == 0:
		fmt.Fprintln(out, "Nothing to do: the zones hold every record of the bundle.")
		return
	}
	push := false
	confirm := huh.NewForm(huh.NewGroup(huh.NewConfirm().Title("Push these changes?").Value(&push))).
		WithAccessible(true).WithInput(in).WithOutput(out)
	if err := confirm.RunWithContext(ctx); err != nil || !push {
		fmt.Fprintln(out, "Nothing was pushed. "+later)
		return
	}
	fmt.Fprintf(out, "Pushing %d zone(s) through %s…\n", res.pending(), res.desc)
	if err := publish.Push(ctx, out, res.prov, res.plans); err != nil {
		fmt.Fprintf(out, "✗ The push failed: %v\n%s\n%s\n", err, publishHint(err), later)
		return
	}
	fmt.Fprintln(out, "Pushed: every zone, read back, holds what the plan says.")
}
