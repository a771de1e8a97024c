package bundle

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sendready/sendready/generators"
)

func sampleManifest() Manifest {
	return Manifest{
		SendreadyVersion: "1.2.3",
		Root:             "/",
		Topology:         "direct",
		Hostname:         "mail.example.com",
		Distro:           "debian",
	}
}

const keyPath = "opendkim/keys/example.com/s1.private"

// sampleFiles is a small bundle, deliberately not in path order.
func sampleFiles() []generators.File {
	return []generators.File{
		{Path: "postfix/main.cf.snippet", Target: "/etc/postfix/main.cf", Mode: 0o644, Data: []byte("myhostname = mail.example.com\n")},
		{Path: "README.md", Mode: 0o644, Data: []byte("# sendready bundle\n")},
		{Path: "install.sh", Mode: 0o755, Data: []byte("#!/bin/sh\nset -eu\n")},
		{Path: "answers.yaml", Mode: 0o644, Data: []byte("hostname: mail.example.com\n")},
		{Path: "postfix/sasl_passwd", Target: "/etc/postfix/sasl_passwd", Mode: 0o600, Secret: true, Data: []byte("[smtp.example.net]:587 user:hunter2\n")},
		{Path: keyPath, Target: "/etc/opendkim/keys/example.com/s1.private", Mode: 0o600, Data: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
		{Path: "opendkim/KeyTable", Target: "/etc/opendkim/KeyTable", Mode: 0o644, Data: []byte("s1._domainkey.example.com example.com:s1:/etc/opendkim/keys/example.com/s1.private\n")},
		{Path: "dns/example.com.zone", Mode: 0o644, Data: []byte("$ORIGIN example.com.\n$TTL 3600\n")},
		{Path: "office365/README.md", Mode: 0o644, Data: []byte("not used\n")},
	}
}

// withFile returns files with the entry at p changed by edit.
func withFile(files []generators.File, p string, edit func(*generators.File)) []generators.File {
	out := slices.Clone(files)
	for i := range out {
		if out[i].Path == p {
			edit(&out[i])
			return out
		}
	}
	panic("no file " + p)
}

// snapshot describes every entry under dir, by slash path: type, mode and
// content. A missing dir gives nil.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	if _, err := os.Lstat(dir); os.IsNotExist(err) {
		return nil
	}
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v", fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + string(b)
		}
		out[filepath.ToSlash(rel)] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// diffSnapshots returns a readable list of differences.
func diffSnapshots(before, after map[string]string) string {
	var lines []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			lines = append(lines, "removed "+k)
		} else if w != v {
			lines = append(lines, fmt.Sprintf("changed %s: %q -> %q", k, v, w))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			lines = append(lines, "added "+k)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func mustWrite(t *testing.T, dir string, files []generators.File, opts Options) Result {
	t.Helper()
	res, err := Write(dir, sampleManifest(), files, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return res
}

func setHook(t *testing.T, hook func(dir, rel string) error) {
	t.Helper()
	testHookBeforeWrite = hook
	t.Cleanup(func() { testHookBeforeWrite = nil })
}

func modeOf(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
