// Package apply installs a generated bundle on a system (or under a root
// prefix): backups first, atomic writes, one postconf call, checks before
// any reload, and everything put back when a check fails. Rollback restores
// a backup byte for byte.
package apply

import (
	"context"
	"errors"
	"io"
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
	// Changed lists the files written or removed (absolute paths).
	Changed []string
	// Commands are the commands run (or, with DryRun, that would run).
	Commands []string
	// Backup is the backup directory of this run ("" when nothing changed).
	Backup string
}

// NoChanges reports whether the system already matched the bundle.
func (r Result) NoChanges() bool { return len(r.Changed) == 0 }

// Apply installs opts.Bundle under opts.Root.
func Apply(ctx context.Context, opts Options) (Result, error) { panic("not implemented") }

// RollbackOptions say which backup to restore.
type RollbackOptions struct {
	Root      string
	Timestamp string // "" for the latest
	Yes       bool
	In        io.Reader
	Out, Err  io.Writer
	Run       func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Rollback restores the files of a backup byte for byte and removes the
// files that backup recorded as created.
func Rollback(ctx context.Context, opts RollbackOptions) (Result, error) { panic("not implemented") }
