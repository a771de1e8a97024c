package apply

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/generators/postfix"
)

// TestApplyAndRollback applies the bundle of several topologies to a
// Postfix seeded like a fresh Debian install, checks every setting, file,
// mode and owner, applies again (no changes, no new backup), then rolls
// back to a byte-identical /etc.
func TestApplyAndRollback(t *testing.T) {
	for _, tc := range []struct{ topology, password string }{
		{"direct", ""},
		{"direct-both-ipv6", ""},
		{"smarthost-some", ""},
		{"o365-smtp-auth", "s3cret"},
		{"relay-sasl", ""},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.topology, tc.password)
			before := e.tree(t)

			res, out := e.mustApply(t)
			if res.NoChanges() || res.Backup == "" || !strings.Contains(out, "done:") {
				t.Fatalf("first apply: %+v\n%s", res, out)
			}
			assertApplied(t, e)
			if o, err := e.pf.Check(); err != nil {
				t.Errorf("postfix check after apply: %v\n%s", err, o)
			}

			res2, out2 := e.mustApply(t)
			if !res2.NoChanges() || res2.Backup != "" || !strings.Contains(out2, "no changes") {
				t.Errorf("second apply: %+v\n%s", res2, out2)
			}
			if b := e.backupDirs(t); len(b) != 1 {
				t.Errorf("backups after two applies: %v", b)
			}

			rres, rout, err := e.rollback(t, "")
			if err != nil || rres.NoChanges() {
				t.Fatalf("rollback: %v %+v\n%s", err, rres, rout)
			}
			diffTrees(t, before, e.tree(t))
			if _, rout, err := e.rollback(t, ""); err != nil || !strings.Contains(rout, "no changes") {
				t.Errorf("second rollback: %v\n%s", err, rout)
			}
		})
	}
}

// assertApplied checks postconf -n, master.cf and every installed file.
func assertApplied(t *testing.T, e *env) {
	t.Helper()
	snippet, err := os.ReadFile(filepath.Join(e.bundle, postfix.MainCFPath))
	if err != nil {
		t.Fatal(err)
	}
	settings, err := parseSettings(snippet)
	if err != nil {
		t.Fatal(err)
	}
	have := e.postconfN(t)
	for _, s := range settings {
		if mergeKind(s.Key) != "" {
			for _, tok := range tokens(s.Value) {
				if !slices.Contains(tokens(have[s.Key]), tok) {
					t.Errorf("postconf -n: %s = %q lacks %q", s.Key, have[s.Key], tok)
				}
			}
			continue
		}
		if have[s.Key] != s.Value {
			t.Errorf("postconf -n: %s = %q, want %q", s.Key, have[s.Key], s.Value)
		}
	}
	master, _ := os.ReadFile(filepath.Join(e.bundle, postfix.MasterCFPath))
	services, err := parseServices(master)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		got := strings.Join(strings.Fields(e.pf.Postconf(t, "-M", s.Key())), " ")
		if got != s.Entry() {
			t.Errorf("master.cf %s = %q, want %q", s.Key(), got, s.Entry())
		}
	}
	m, err := bundle.Read(e.bundle)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := user.Lookup("opendkim")
	if err != nil {
		t.Fatal(err)
	}
	dkUID, _ := strconv.Atoi(dk.Uid)
	for _, f := range m.Files {
		if f.Target == "" {
			continue
		}
		want, _ := os.ReadFile(filepath.Join(e.bundle, f.Path))
		got, err := os.ReadFile(f.Target)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not the bundle's %s (%v)", f.Target, f.Path, err)
			continue
		}
		fi, _ := os.Stat(f.Target)
		uid := int(fi.Sys().(*syscall.Stat_t).Uid)
		if fi.Mode().Perm() != os.FileMode(f.Mode) {
			t.Errorf("%s: mode %v, want %v", f.Target, fi.Mode(), f.Mode)
		}
		if bundle.IsPrivateKey(f.Path) {
			if fi.Mode().Perm() != 0o600 || uid != dkUID {
				t.Errorf("key %s: mode %v uid %d, want 0600 opendkim", f.Target, fi.Mode(), uid)
			}
			di, _ := os.Stat(filepath.Dir(f.Target))
			if di.Mode().Perm() != 0o750 || int(di.Sys().(*syscall.Stat_t).Uid) != dkUID {
				t.Errorf("key directory %s: mode %v, want 0750 opendkim", filepath.Dir(f.Target), di.Mode())
			}
		} else if uid != 0 {
			t.Errorf("%s: owner %d, want root", f.Target, uid)
		}
		if filepath.Base(f.Path) == "sasl_passwd" || filepath.Base(f.Path) == "transport" {
			if _, err := os.Stat(f.Target + ".db"); err != nil {
				t.Errorf("%s: not postmapped: %v", f.Target, err)
			}
		}
	}
}

// TestApplyMergesAdminSettings keeps the admin's milter, restrictions and
// comments, and adds ours once.
func TestApplyMergesAdminSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct", "")
	e.pf.Postconf(t, "-e",
		"smtpd_milters = inet:127.0.0.1:9999",
		"smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, reject_rbl_client zen.example.org",
	)
	mainCF := filepath.Join(e.l.PostfixDir, "main.cf")
	data, _ := os.ReadFile(mainCF)
	data = append([]byte("# admin: keep this comment\n"), data...)
	if err := os.WriteFile(mainCF, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustApply(t)
	have := e.postconfN(t)
	if got, want := have["smtpd_milters"], "inet:127.0.0.1:9999, inet:127.0.0.1:8891"; got != want {
		t.Errorf("smtpd_milters = %q, want %q", got, want)
	}
	if got, want := have["non_smtpd_milters"], "$smtpd_milters"; got != want {
		t.Errorf("non_smtpd_milters = %q, want %q", got, want)
	}
	wantRR := "permit_mynetworks, reject_unauth_destination, check_policy_service unix:private/policyd-spf, reject_rbl_client zen.example.org"
	if got := have["smtpd_recipient_restrictions"]; got != wantRR {
		t.Errorf("smtpd_recipient_restrictions = %q, want %q", got, wantRR)
	}
	data, _ = os.ReadFile(mainCF)
	if !strings.Contains(string(data), "# admin: keep this comment\n") {
		t.Error("the admin's comment is gone")
	}
	if res, out := e.mustApply(t); !res.NoChanges() {
		t.Errorf("second apply changed %v\n%s", res.Changed, out)
	}
}

// TestApplyCreatesMissingMainCF: Debian's "No configuration" install has
// no main.cf; apply starts from main.cf.debian, and rollback removes it.
func TestApplyCreatesMissingMainCF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct", "")
	mainCF := filepath.Join(e.l.PostfixDir, "main.cf")
	if err := os.Remove(mainCF); err != nil {
		t.Fatal(err)
	}
	before := e.tree(t)
	// Without the private instance's queue settings, postfix check would
	// look at the system's queue: leave it out here.
	res, out, err := e.apply(t, func(o *Options) {
		o.Run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			if name == "postfix" {
				return nil, nil
			}
			return execRun(ctx, name, args...)
		}
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data, err := os.ReadFile(mainCF)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := os.ReadFile("/usr/share/postfix/main.cf.debian")
	if !bytes.HasPrefix(data, tmpl[:200]) || !strings.Contains(string(data), "\nmyhostname = mail.example.test\n") {
		t.Errorf("main.cf was not made from main.cf.debian plus our settings:\n%s", data)
	}
	if !slices.Contains(res.Changed, mainCF) {
		t.Errorf("Changed %v lacks %s", res.Changed, mainCF)
	}
	if _, out, err := e.rollback(t, ""); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if _, err := os.Stat(mainCF); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("rollback left main.cf: %v", err)
	}
	diffTrees(t, before, e.tree(t))
}

// TestApplyFailedCheckRestores: opendkim -n fails, so every file is put
// back byte for byte and the files this run created are gone.
func TestApplyFailedCheckRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "direct-both-ipv6", "")
	before := e.tree(t)
	res, out, err := e.apply(t, func(o *Options) { o.Run = failing("opendkim -n") })
	if !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.Contains(out, "put back") {
		t.Errorf("output does not say the files were put back:\n%s", out)
	}
	diffTrees(t, before, e.tree(t))
	if res.Backup != "" || len(e.backupDirs(t)) != 0 {
		t.Errorf("a backup of a run that was undone is left: %q %v", res.Backup, e.backupDirs(t))
	}
	if o, err := e.pf.Check(); err != nil {
		t.Errorf("postfix check: %v\n%s", err, o)
	}
}

// TestBackupParentsStayOpen: the backup directory is private, but parents it
// creates (a fresh --root tree's /var) keep the usual 0755, or daemons lose
// access to <root>/var/spool.
func TestBackupParentsStayOpen(t *testing.T) {
	root := t.TempDir()
	base := filepath.Join(root, "var", "backups", "sendready")
	dir, _, err := makeBackup(base, time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC), backupManifest{}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{filepath.Join(root, "var"): 0o755, base: 0o700, dir: 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
	if filepath.Base(dir) != "20261122T140000Z" {
		t.Errorf("backup dir %s", dir)
	}
}
