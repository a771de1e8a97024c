package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/layout"
)

// Rollback restores the files of a backup byte for byte and removes the
// files that backup recorded as created.
//
// Modes and owners are restored too, and directories the run created are
// removed when empty. Then postfix check and opendkim -n run as after
// apply; if they fail, the files are put back as they were before the
// rollback (ErrFailed). Restoring a backup that already matches says
// "no changes".
func Rollback(ctx context.Context, opts RollbackOptions) (Result, error) {
	if opts.Root == "" {
		opts.Root = "/"
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Err == nil {
		opts.Err = io.Discard
	}
	if opts.Run == nil {
		opts.Run = execRun
	}
	if err := checkRoot(opts.Root); err != nil {
		return Result{}, err
	}
	base := filepath.FromSlash(layout.For("", opts.Root).BackupDir)
	ts := opts.Timestamp
	list, err := backups(base)
	if err != nil {
		return Result{}, refused("listing backups: %v", err)
	}
	if ts == "" {
		if len(list) == 0 {
			return Result{}, refused("no backups under %s: nothing to roll back", base)
		}
		ts = list[len(list)-1]
	} else if !timestampRE.MatchString(ts) || !slices.Contains(list, ts) {
		return Result{}, refused("no backup %q under %s (have: %v)", ts, base, list)
	}
	dir := filepath.Join(base, ts)
	m, want, err := readBackup(dir)
	if err != nil {
		return Result{}, refused("%v", err)
	}
	if m.Root != opts.Root {
		return Result{}, refused("backup %s was made for --root %s, not %s", dir, m.Root, opts.Root)
	}
	var order []string
	befores := map[string]state{}
	for _, f := range m.Files {
		cur, err := readState(f.Path)
		if err != nil {
			return Result{}, refused("%v", err)
		}
		befores[f.Path] = cur
		if !cur.same(want[f.Path]) {
			order = append(order, f.Path)
		}
	}
	dirsToDo := false
	var beforeDirs []backupDir
	for _, d := range m.Dirs {
		cur, err := readDirState(d.Path)
		if err != nil {
			return Result{}, refused("%v", err)
		}
		beforeDirs = append(beforeDirs, backupDir{Path: d.Path, Existed: cur.Exists, Mode: bundle.Mode(cur.Mode), UID: cur.UID, GID: cur.GID})
		if cur.Exists != d.Existed || d.Existed && (cur.Mode != os.FileMode(d.Mode) || cur.UID != d.UID || cur.GID != d.GID) {
			dirsToDo = true
		}
	}
	res := Result{Backup: dir}
	if len(order) == 0 && !dirsToDo {
		fmt.Fprintf(opts.Out, "no changes: %s already matches the backup %s\n", opts.Root, dir)
		return Result{}, nil
	}
	if !opts.Yes {
		fmt.Fprintf(opts.Out, "sendready rollback %s will restore:\n", dir)
		for _, p := range order {
			what := "restore"
			if !want[p].Exists {
				what = "remove"
			}
			fmt.Fprintf(opts.Out, "  %s %s\n", what, p)
		}
		if !confirm(opts.In, opts.Out, "Roll back these files?") {
			return Result{}, refused("not confirmed; nothing was changed (pass --yes to skip the question)")
		}
	}
	r := &runner{run: opts.Run}
	if err := restoreAll(order, want, m.Dirs, func(p string) { res.Changed = append(res.Changed, p) }); err != nil {
		restoreAll(order, befores, beforeDirs, nil)
		return res, fmt.Errorf("%w: restoring %s: %w", ErrFailed, dir, err)
	}
	if err := runChecks(ctx, r, m.PostfixDir, m.OpenDKIMConfs); err != nil {
		res.Commands = r.commands
		if rerr := restoreAll(order, befores, beforeDirs, nil); rerr != nil {
			return res, fmt.Errorf("%w (and putting the files back failed: %v): %w", ErrFailed, rerr, err)
		}
		return res, fmt.Errorf("%w: the restored files fail the checks, so the files are as they were before the rollback: %w", ErrFailed, err)
	}
	res.Commands = r.commands
	for _, c := range res.Changed {
		fmt.Fprintf(opts.Out, "restored: %s\n", c)
	}
	var manual [][]string
	if opts.Root == "/" && systemdRunning() {
		for _, c := range [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "restart", "opendkim"}, {"systemctl", "reload", "postfix"}} {
			if _, err := r.do(ctx, c[0], c[1:]...); err != nil {
				res.Commands = r.commands
				return res, fmt.Errorf("%w: files restored from %s, but: %w", ErrFailed, dir, err)
			}
		}
		res.Commands = r.commands
	} else {
		for _, c := range m.OpenDKIMConfs {
			if _, err := os.Stat(c); err == nil {
				manual = append(manual, []string{"opendkim", "-x", c})
			}
		}
		manual = append(manual, []string{"postfix", "-c", m.PostfixDir, "reload"})
		fmt.Fprintln(opts.Out, "now run (no systemd here, or --root is not /):")
		for _, c := range manual {
			fmt.Fprintf(opts.Out, "  %s\n", cmdline(c[0], c[1:]))
		}
	}
	fmt.Fprintf(opts.Out, "done: rolled back to %s\n", filepath.Base(dir))
	return res, nil
}
