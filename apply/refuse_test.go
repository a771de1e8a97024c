package apply

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendready/sendready/generators"
)

// TestApplyRefuses: each refusal says why, returns ErrRefused and changes
// nothing.
func TestApplyRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct", "")
	pw := newEnv(t, "o365-smtp-auth", "")
	tests := []struct {
		name string
		e    *env
		mod  func(*Options)
		want string
	}{
		{"root mismatch", e, func(o *Options) { o.Root = filepath.Join(e.root, "elsewhere") }, "was generated for --root " + e.root},
		{"other host", e, func(o *Options) { o.Hostname = func() (string, error) { return "other.example.org", nil } }, "the bundle is for mail.example.test, but this machine is other.example.org"},
		{"missing package", e, func(o *Options) {
			o.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
				if name == "dpkg-query" && args[len(args)-1] == "opendkim" {
					return []byte("deinstall ok config-files"), nil
				}
				return execRun(ctx, name, args...)
			}
		}, "missing packages: opendkim; install them with: apt-get install -y opendkim"},
		{"placeholder password", pw, nil, generators.Placeholder},
		{"not confirmed", e, func(o *Options) { o.Yes = false; o.In = strings.NewReader("n\n") }, "not confirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.e.tree(t)
			_, out, err := tt.e.apply(t, tt.mod)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrRefused with %q\n%s", err, tt.want, out)
			}
			diffTrees(t, before, tt.e.tree(t))
			if b := tt.e.backupDirs(t); len(b) != 0 {
				t.Errorf("backups: %v", b)
			}
		})
	}

	// A hand-edited bundle file is refused, and applied with --force.
	f := filepath.Join(e.bundle, "opendkim", "TrustedHosts")
	data, _ := os.ReadFile(f)
	data = append(data, []byte("192.0.2.7\n")...)
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	before := e.tree(t)
	_, out, err := e.apply(t, nil)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "opendkim/TrustedHosts: content changed") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("edited file: %v\n%s", err, out)
	}
	diffTrees(t, before, e.tree(t))
	if _, out, err := e.apply(t, func(o *Options) { o.Force = true }); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(e.l.TrustedHosts); string(got) != string(data) {
		t.Errorf("--force did not install the edited file")
	}
}

// TestApplyRefusesOtherKey: a different key already at the target is
// rotation, not installation.
func TestApplyRefusesOtherKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct", "")
	key := e.l.KeyFile("example.test", "s2026")
	if err := os.MkdirAll(filepath.Dir(key), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("another key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := e.tree(t)
	_, out, err := e.apply(t, nil)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "different DKIM key") {
		t.Errorf("err = %v\n%s", err, out)
	}
	diffTrees(t, before, e.tree(t))
}

// TestApplyDryRun prints a unified diff and the commands, and changes
// nothing.
func TestApplyDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "o365-smtp-auth", "s3cret")
	before := e.tree(t)
	res, out, err := e.apply(t, func(o *Options) { o.DryRun = true; o.Yes = false })
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{
		"--- a/etc/postfix/main.cf\n+++ b/etc/postfix/main.cf\n@@ ",
		"\n+myhostname = mail.example.test\n",
		"--- /dev/null\n+++ b/etc/opendkim.conf\n",
		"+++ b/etc/postfix/sasl_passwd\n(secret: contents not shown)",
		"postconf -c " + e.l.PostfixDir + " -e 'myhostname = mail.example.test'",
		"postmap -c " + e.l.PostfixDir + " hash:" + e.l.SASLPasswd,
		"opendkim -n -x " + e.l.OpenDKIMConf,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q", want)
		}
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "PRIVATE KEY") {
		t.Error("dry run printed a secret")
	}
	if res.NoChanges() || res.Backup != "" {
		t.Errorf("result %+v", res)
	}
	diffTrees(t, before, e.tree(t))
	if b := e.backupDirs(t); len(b) != 0 {
		t.Errorf("backups: %v", b)
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestApplyAlignsOpenDKIMSocket: Debian's /etc/default/opendkim and a
// systemd drop-in that pass another socket are pointed at the bundle's,
// backed up, and restored by rollback.
func TestApplyAlignsOpenDKIMSocket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct", "")
	def := filepath.Join(e.root, "etc", "default", "opendkim")
	dropin := filepath.Join(e.root, "etc", "systemd", "system", "opendkim.service.d", "override.conf")
	for p, text := range map[string]string{
		def:    "# Command-line options specified here will override the contents of\nRUNDIR=/run/opendkim\nSOCKET=local:$RUNDIR/opendkim.sock\nUSER=opendkim\n",
		dropin: "[Service]\nExecStart=\nExecStart=/usr/sbin/opendkim -P /run/opendkim/opendkim.pid -p local:/run/opendkim/opendkim.sock\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := e.tree(t)
	res, out := e.mustApply(t)
	got, _ := os.ReadFile(def)
	if !strings.Contains(string(got), "\nSOCKET=inet:8891@127.0.0.1\n") || !strings.Contains(string(got), "USER=opendkim") {
		t.Errorf("%s:\n%s", def, got)
	}
	got, _ = os.ReadFile(dropin)
	if !strings.Contains(string(got), "-p inet:8891@127.0.0.1") {
		t.Errorf("%s:\n%s", dropin, got)
	}
	rel := strings.TrimPrefix(def, e.root+"/")
	if b, err := os.ReadFile(filepath.Join(res.Backup, "files", rel)); err != nil || !strings.Contains(string(b), "SOCKET=local:") {
		t.Errorf("no backup of %s: %v\n%s", def, err, out)
	}
	if res2, _ := e.mustApply(t); !res2.NoChanges() {
		t.Errorf("second apply changed %v", res2.Changed)
	}
	if _, out, err := e.rollback(t, ""); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	diffTrees(t, before, e.tree(t))
}

// TestApplyRefusesNonRoot (not parallel: it replaces geteuid).
func TestApplyRefusesNonRoot(t *testing.T) {
	old := geteuid
	geteuid = func() int { return 1000 }
	defer func() { geteuid = old }()
	_, err := Apply(context.Background(), Options{Bundle: t.TempDir(), Root: "/", Yes: true})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "run as root") {
		t.Errorf("Apply: %v", err)
	}
	_, err = Rollback(context.Background(), RollbackOptions{Root: "/", Yes: true})
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "run as root") {
		t.Errorf("Rollback: %v", err)
	}
}
