package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sendready/sendready/internal/shell"
)

// binDirs are searched after PATH: sudo and service environments often
// lack the sbin directories where postconf, postfix and opendkim live.
var binDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range binDirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH or %s", name, strings.Join(binDirs, ", "))
}

// execRun runs a command for real: stdout is returned, stderr goes into the
// error when the command fails.
func execRun(ctx context.Context, name string, args ...string) ([]byte, error) {
	bin, err := lookBin(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(string(out))
		}
		return out, fmt.Errorf("%s: %w: %s", cmdline(name, args), err, msg)
	}
	return out, nil
}

// cmdline renders a command for a person (and a shell).
func cmdline(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		parts = append(parts, shell.Quote(a))
	}
	return strings.Join(parts, " ")
}

// runner runs commands through Options.Run and records them.
type runner struct {
	run      func(ctx context.Context, name string, args ...string) ([]byte, error)
	commands []string
}

// do runs and records a command.
func (r *runner) do(ctx context.Context, name string, args ...string) ([]byte, error) {
	r.commands = append(r.commands, cmdline(name, args))
	out, err := r.run(ctx, name, args...)
	if err != nil && !strings.Contains(err.Error(), name) {
		err = fmt.Errorf("%s: %w", cmdline(name, args), err)
	}
	return out, err
}

// quiet runs a command without recording it (scratch copies, queries).
func (r *runner) quiet(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := r.run(ctx, name, args...)
	if err != nil && !strings.Contains(err.Error(), name) {
		err = fmt.Errorf("%s: %w", cmdline(name, args), err)
	}
	return out, err
}
