// Package apply installs a generated bundle on a system (or under a root
// prefix): backups first, atomic writes, one postconf call, checks before
// any reload, and everything put back when a check fails. Rollback restores
// a backup byte for byte.
package apply

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Errors apply returns; the command maps them to exit codes.
var (
	// ErrRefused: apply would not start (wrong root, edited files, not root,
	// missing packages, another host's bundle). Nothing was changed.
	ErrRefused = errors.New("apply: refused")
	// ErrFailed: a step or a check failed; every file was put back.
	ErrFailed = errors.New("apply: failed, everything put back")
)

// Options say what to apply where.
type Options struct {
	Bundle string // bundle directory
	Root   string // "/" or a prefix; must equal the bundle's root
	DryRun bool   // print the diff and the commands, change nothing
	Yes    bool   // do not ask for confirmation
	Force  bool   // apply hand-edited bundle files, or another host's bundle
	In     io.Reader
	Out    io.Writer // the report: files changed, commands run
	Err    io.Writer
	// Now is the clock (backup timestamps).
	Now func() time.Time
	// Run runs a command (postconf, postmap, postfix, opendkim, systemctl,
	// usermod); nil runs it for real. Tests inject failures here.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// Hostname is this machine's name (nil: hostname -f).
	Hostname func() (string, error)
}

// Result tells what apply did.
type Result struct {
	// Changed lists the files written or removed (absolute paths). With
	// DryRun, the files that would be.
	Changed []string
	// Commands are the commands run (or, with DryRun, that would run).
	Commands []string
	// Backup is the backup directory of this run ("" when nothing changed).
	Backup string
}

// NoChanges reports whether the system already matched the bundle.
func (r Result) NoChanges() bool { return len(r.Changed) == 0 }

// Apply installs opts.Bundle under opts.Root.
//
// In order: the checks that may refuse (bundle root, hand edits, root user,
// host name, packages, placeholder password, a different existing key);
// the plan (every target's bytes, mode and owner, and main.cf/master.cf as
// postconf would leave them, computed on a scratch copy); "no changes" when
// everything already matches; the diff with DryRun, else a confirmation
// unless Yes; the backup; the writes (keys and tables, maps and postmap,
// master.cf, then main.cf last); postfix check and opendkim -n for each
// instance, restoring everything on failure; then the reload (systemctl
// when Root is "/" and systemd runs, else the commands are printed).
func Apply(ctx context.Context, opts Options) (Result, error) {
	opts = withDefaults(opts)
	p, err := newPlan(ctx, opts)
	if err != nil {
		return Result{}, err
	}
	return p.execute(ctx)
}

// RollbackOptions say which backup to restore.
type RollbackOptions struct {
	Root      string
	Timestamp string // "" for the latest
	Yes       bool
	In        io.Reader
	Out, Err  io.Writer
	Run       func(ctx context.Context, name string, args ...string) ([]byte, error)
}

func withDefaults(o Options) Options {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Run == nil {
		o.Run = execRun
	}
	return o
}

// Test hooks.
var (
	// geteuid says who runs apply.
	geteuid = os.Geteuid
	// afterStep is called after each change on disk (a crash test stops the
	// run there).
	afterStep func(path string)
	// systemdRunning reports whether systemctl can be used on this machine.
	systemdRunning = func() bool {
		if _, err := lookBin("systemctl"); err != nil {
			return false
		}
		fi, err := os.Stat("/run/systemd/system")
		return err == nil && fi.IsDir()
	}
)

func stepDone(path string) {
	if afterStep != nil {
		afterStep(path)
	}
}

// refused wraps a reason into ErrRefused.
func refused(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// confirm asks question on out and reads a y/N line from in.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "%s [y/N] ", question)
	if in == nil {
		fmt.Fprintln(out)
		return false
	}
	line, _ := bufio.NewReader(in).ReadString('\n')
	fmt.Fprintln(out)
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// checkRoot validates a --root value.
func checkRoot(root string) error {
	if !filepath.IsAbs(root) || filepath.Clean(root) != root {
		return refused("--root %q is not an absolute, clean path", root)
	}
	if root == "/" && geteuid() != 0 {
		return refused("run as root (sudo sendready ...): installing into /etc needs it")
	}
	return nil
}
