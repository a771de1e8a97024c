package apply

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/internal/testdaemons"
	"github.com/sendready/sendready/layout"
)

var fixedNow = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

// env is one scratch system: a root with a seeded Postfix and a bundle
// generated for it.
type env struct {
	root, bundle string
	a            *answers.Answers
	l            layout.Layout
	pf           *testdaemons.Postfix
}

// newEnv generates the bundle of a topology (generate/testdata/topologies)
// for a fresh root and seeds Postfix there like a fresh Debian install.
func newEnv(t *testing.T, topology, password string) *env {
	t.Helper()
	testdaemons.Require(t, "postfix", "postconf", "postmap", "opendkim")
	a, err := answers.Load(filepath.Join("..", "generate", "testdata", "topologies", topology+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a.Defaults(fixedNow)
	if _, err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	root := testdaemons.Dir(t)
	e := &env{root: root, bundle: filepath.Join(root, "bundle"), a: a, l: layout.For(a.Server.Distro, root)}
	if _, err := generate.Run(generate.Options{Answers: a, Out: e.bundle, Root: root, Version: "test", Rand: rand.Reader, SASLPassword: password}); err != nil {
		t.Fatal(err)
	}
	e.pf = testdaemons.NewPostfixAt(t, filepath.Join(root, "pf"), e.l.PostfixDir)
	return e
}

// opts are Options for e: this machine is the bundle's host, no prompt.
func (e *env) opts(out *bytes.Buffer) Options {
	return Options{
		Bundle: e.bundle, Root: e.root, Yes: true, Out: out, Err: out,
		Now:      func() time.Time { return fixedNow },
		Hostname: func() (string, error) { return e.a.Server.Hostname, nil },
	}
}

func (e *env) apply(t *testing.T, mod func(*Options)) (Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	o := e.opts(&out)
	if mod != nil {
		mod(&o)
	}
	res, err := Apply(context.Background(), o)
	return res, out.String(), err
}

func (e *env) mustApply(t *testing.T) (Result, string) {
	t.Helper()
	res, out, err := e.apply(t, nil)
	if err != nil {
		t.Fatalf("Apply: %v\n%s", err, out)
	}
	return res, out
}

func (e *env) rollback(t *testing.T, ts string) (Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	res, err := Rollback(context.Background(), RollbackOptions{Root: e.root, Timestamp: ts, Yes: true, Out: &out, Err: &out})
	return res, out.String(), err
}

// tree hashes every file and directory under <root>/etc with its mode and
// owner.
func (e *env) tree(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(filepath.Join(e.root, "etc"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		v := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			v += " " + hex.EncodeToString(sum[:])
		}
		m[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffTrees(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if after[p] != v {
			t.Errorf("%s: was %q, now %q", p, v, after[p])
		}
	}
	for p, v := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: left behind (%s)", p, v)
		}
	}
}

// backupDirs lists the backup directories under e's root.
func (e *env) backupDirs(t *testing.T) []string {
	t.Helper()
	l, err := backups(e.l.BackupDir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// postconfN parses postconf -n.
func (e *env) postconfN(t *testing.T) map[string]string {
	t.Helper()
	return parsePostconfN([]byte(e.pf.Postconf(t, "-n")))
}

// failing returns a Run that runs commands for real except those whose
// command line starts with prefix, which fail.
func failing(prefix string) func(ctx context.Context, name string, args ...string) ([]byte, error) {
	return func(ctx context.Context, name string, args ...string) ([]byte, error) {
		if strings.HasPrefix(cmdline(name, args), prefix) {
			return nil, fmt.Errorf("injected failure of %s", prefix)
		}
		return execRun(ctx, name, args...)
	}
}
