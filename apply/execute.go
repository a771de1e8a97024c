package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sendready/sendready/bundle"
)

// execute runs the plan: dry run, confirmation, backup, writes, checks,
// reload.
func (p *plan) execute(ctx context.Context) (Result, error) {
	o := p.opts
	changed := p.changedFiles()
	if len(changed) == 0 && p.groupCmd == nil {
		fmt.Fprintf(o.Out, "no changes: %s already matches the bundle %s\n", o.Root, o.Bundle)
		return Result{}, nil
	}
	reload, manual := p.reloadCommands()
	if o.DryRun {
		return p.dryRun(changed, reload, manual), nil
	}
	if !o.Yes {
		p.summary(o.Out, changed)
		if !confirm(o.In, o.Out, "Apply these changes?") {
			return Result{}, refused("not confirmed; nothing was changed (pass --yes to skip the question)")
		}
	}

	dirs := make([]backupDir, 0, len(p.dirs))
	for _, d := range p.dirs {
		dirs = append(dirs, backupDir{Path: d.path, Existed: d.old.Exists, Mode: bundle.Mode(d.old.Mode), UID: d.old.UID, GID: d.old.GID})
	}
	bm := backupManifest{Root: o.Root, Bundle: o.Bundle, PostfixDir: filepath.FromSlash(p.l.PostfixDir), OpenDKIMConfs: p.confs}
	backupDir, bm, err := makeBackup(filepath.FromSlash(p.l.BackupDir), o.Now(), bm, changed, p.olds, dirs)
	if err != nil {
		if backupDir != "" {
			os.RemoveAll(backupDir)
		}
		return Result{}, refused("making the backup: %v; nothing was changed", err)
	}
	res := Result{Backup: backupDir}
	fmt.Fprintf(o.Out, "backup: %s\n", backupDir)

	fail := func(step error) (Result, error) {
		res.Commands = p.r.commands
		rerr := restoreAll(changed, p.olds, dirs, nil)
		if rerr != nil {
			fmt.Fprintf(o.Err, "restoring from %s failed: %v\nrun: sendready rollback --root %s %s\n", backupDir, rerr, o.Root, filepath.Base(backupDir))
			return res, fmt.Errorf("%w (restore incomplete, see above): %w", ErrFailed, step)
		}
		// Everything is as before: this backup holds nothing to roll back.
		os.RemoveAll(backupDir)
		res.Backup = ""
		fmt.Fprintf(o.Err, "every file was put back as it was\n")
		return res, fmt.Errorf("%w: %w", ErrFailed, step)
	}

	if err := p.write(ctx, &res); err != nil {
		return fail(err)
	}
	if err := p.check(ctx); err != nil {
		return fail(err)
	}
	for _, c := range reload {
		if _, err := p.r.do(ctx, c[0], c[1:]...); err != nil {
			return fail(err)
		}
	}
	res.Commands = p.r.commands
	for _, c := range res.Changed {
		fmt.Fprintf(o.Out, "changed: %s\n", c)
	}
	if len(manual) > 0 {
		fmt.Fprintln(o.Out, "now run (no systemd here, or --root is not /):")
		for _, c := range manual {
			fmt.Fprintf(o.Out, "  %s\n", cmdline(c[0], c[1:]))
		}
	}
	fmt.Fprintf(o.Out, "done: %d files changed; undo with: sendready rollback --root %s %s\n", len(res.Changed), o.Root, filepath.Base(backupDir))
	return res, nil
}

// write makes every change, in order; afterStep runs after each one.
func (p *plan) write(ctx context.Context, res *Result) error {
	for _, d := range p.dirs {
		if err := setDirState(d.path, d.new); err != nil {
			return err
		}
		stepDone(d.path)
	}
	for _, w := range p.writes {
		if p.olds[w].same(p.news[w]) {
			continue
		}
		if err := writeAtomic(w, p.news[w]); err != nil {
			return err
		}
		res.Changed = append(res.Changed, w)
		stepDone(w)
	}
	for i, src := range p.maps {
		if _, err := p.r.do(ctx, "postmap", "-c", filepath.FromSlash(p.l.PostfixDir), "hash:"+src); err != nil {
			return err
		}
		res.Changed = append(res.Changed, p.dbs[i])
		stepDone(p.dbs[i])
	}
	for _, f := range []struct {
		path    string
		changed bool
		create  []byte
		cmds    [][]string
	}{
		{p.masterCF, p.masterChanged, p.masterCreate, p.masterCmds},
		{p.mainCF, p.mainChanged, p.mainCreate, [][]string{p.mainArgs}},
	} {
		if !f.changed {
			continue
		}
		if f.create != nil {
			if err := writeAtomic(f.path, state{Exists: true, Data: f.create, Mode: 0o644}); err != nil {
				return err
			}
		}
		for _, c := range f.cmds {
			if c == nil {
				continue
			}
			if _, err := p.r.do(ctx, "postconf", c...); err != nil {
				return err
			}
		}
		res.Changed = append(res.Changed, f.path)
		stepDone(f.path)
	}
	if p.groupCmd != nil && p.opts.Root == "/" {
		if _, err := p.r.do(ctx, p.groupCmd[0], p.groupCmd[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// check runs postfix check and opendkim -n for each instance.
func (p *plan) check(ctx context.Context) error {
	return runChecks(ctx, p.r, filepath.FromSlash(p.l.PostfixDir), p.confs)
}

func runChecks(ctx context.Context, r *runner, postfixDir string, confs []string) error {
	if _, err := os.Stat(filepath.Join(postfixDir, "main.cf")); err == nil {
		if _, err := r.do(ctx, "postfix", "-c", postfixDir, "check"); err != nil {
			return fmt.Errorf("postfix check rejected the configuration: %w", err)
		}
	}
	for _, c := range confs {
		if _, err := os.Stat(c); err != nil {
			continue
		}
		if _, err := r.do(ctx, "opendkim", "-n", "-x", c); err != nil {
			return fmt.Errorf("opendkim rejected %s: %w", c, err)
		}
	}
	return nil
}

// reloadCommands returns the commands that make the daemons read the new
// files: run (systemd on the real root) or to print (manual).
func (p *plan) reloadCommands() (run, manual [][]string) {
	postfixChanged := p.mainChanged || p.masterChanged || len(p.maps) > 0
	dir := filepath.FromSlash(p.l.PostfixDir)
	if p.opts.Root == "/" && systemdRunning() {
		if p.unitChanged {
			run = append(run, []string{"systemctl", "daemon-reload"})
		}
		if p.edUnit != "" && p.edChanged {
			run = append(run, []string{"systemctl", "enable", "--now", p.edUnit})
			if !p.edUnitNew {
				run = append(run, []string{"systemctl", "restart", p.edUnit})
			}
		}
		if p.dkimChanged {
			run = append(run, []string{"systemctl", "restart", "opendkim"})
		}
		if postfixChanged {
			verb := "reload"
			if p.restartPostfix {
				verb = "restart"
			}
			run = append(run, []string{"systemctl", verb, "postfix"})
		}
		return run, nil
	}
	if p.groupCmd != nil && p.opts.Root != "/" {
		manual = append(manual, p.groupCmd)
	}
	if p.edUnit != "" && p.edChanged {
		manual = append(manual, []string{"systemctl", "daemon-reload"}, []string{"systemctl", "enable", "--now", p.edUnit})
	}
	if p.dkimChanged {
		for _, c := range p.confs {
			manual = append(manual, []string{"opendkim", "-x", c})
		}
	}
	if postfixChanged {
		if p.restartPostfix {
			manual = append(manual, []string{"postfix", "-c", dir, "stop"}, []string{"postfix", "-c", dir, "start"})
		} else {
			manual = append(manual, []string{"postfix", "-c", dir, "reload"})
		}
	}
	return nil, manual
}

// summary lists what will change, before the question.
func (p *plan) summary(w io.Writer, changed []string) {
	fmt.Fprintf(w, "sendready apply %s → %s will change:\n", p.opts.Bundle, p.opts.Root)
	for _, c := range changed {
		what := "update"
		if !p.olds[c].Exists {
			what = "create"
		}
		fmt.Fprintf(w, "  %s %s\n", what, c)
	}
}

// dryRun prints the diff of every file that would change and the commands
// that would run.
func (p *plan) dryRun(changed []string, reload, manual [][]string) Result {
	w := p.opts.Out
	fmt.Fprintf(w, "dry run: nothing is changed; applying %s to %s would change %d files:\n", p.opts.Bundle, p.opts.Root, len(changed))
	var cmds []string
	for _, c := range p.masterCmds {
		cmds = append(cmds, cmdline("postconf", c))
	}
	if p.mainArgs != nil && p.mainChanged {
		cmds = append(cmds, cmdline("postconf", p.mainArgs))
	}
	for _, src := range p.maps {
		cmds = append(cmds, cmdline("postmap", []string{"-c", filepath.FromSlash(p.l.PostfixDir), "hash:" + src}))
	}
	cmds = append(cmds, cmdline("postfix", []string{"-c", filepath.FromSlash(p.l.PostfixDir), "check"}))
	for _, c := range p.confs {
		cmds = append(cmds, cmdline("opendkim", []string{"-n", "-x", c}))
	}
	for _, c := range append(reload, manual...) {
		cmds = append(cmds, cmdline(c[0], c[1:]))
	}
	for _, c := range changed {
		old, want := p.olds[c], p.news[c]
		rel := strings.TrimPrefix(strings.TrimPrefix(c, p.opts.Root), "/")
		aName, bName := "a/"+rel, "b/"+rel
		if !old.Exists {
			aName = "/dev/null"
		}
		fmt.Fprintln(w)
		switch {
		case strings.HasSuffix(c, ".db") && want.Data == nil:
			fmt.Fprintf(w, "%s: rebuilt by postmap\n", c)
			continue
		case p.secret[c]:
			if string(old.Data) != string(want.Data) {
				fmt.Fprintf(w, "--- %s\n+++ %s\n(secret: contents not shown)\n", aName, bName)
			}
		default:
			fmt.Fprint(w, unifiedDiff(aName, bName, old.Data, want.Data))
		}
		if old.Exists && (old.Mode != want.Mode || old.UID != want.UID || old.GID != want.GID) {
			fmt.Fprintf(w, "%s: mode %04o → %04o, owner %d:%d → %d:%d\n", c, old.Mode, want.Mode, old.UID, old.GID, want.UID, want.GID)
		}
	}
	for _, d := range p.dirs {
		if !d.old.Exists {
			fmt.Fprintf(w, "mkdir %s (mode %04o)\n", d.path, d.new.Mode)
		} else {
			fmt.Fprintf(w, "%s: mode %04o → %04o, owner %d:%d → %d:%d\n", d.path, d.old.Mode, d.new.Mode, d.old.UID, d.old.GID, d.new.UID, d.new.GID)
		}
	}
	fmt.Fprintln(w, "\ncommands that would run:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %s\n", c)
	}
	return Result{Changed: changed, Commands: cmds}
}
