package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sendready/sendready/generate"
)

func init() {
	generate.Now = func() time.Time { return time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC) }
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run("test", args, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func writeAnswers(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const direct = `server: {hostname: mail.example.com, ipv4: [203.0.113.10]}
domains: [{name: example.com, dmarc: {rua: "mailto:dmarc@example.com"}}]
`

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "--version")
	if code != 0 || out != "sendready test\n" {
		t.Errorf("--version: code %d, out %q", code, out)
	}
}

func TestGenerateWritesBundle(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle")
	code, stdout, stderr := run(t, "generate", "--answers", writeAnswers(t, dir, direct), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, f := range []string{"bundle.json", "answers.yaml", "README.md", "install.sh",
		"postfix/main.cf.snippet", "postfix/master.cf.snippet",
		"opendkim/opendkim.conf", "opendkim/KeyTable", "opendkim/SigningTable", "opendkim/TrustedHosts",
		"opendkim/keys/example.com/202611.private",
		"dns/example.com.zone", "dns/example.com.txt", "dns/records.json", "dns/ptr.txt"} {
		if !strings.Contains(stdout, filepath.Join(out, f)+"\n") {
			t.Errorf("stdout does not list %s", f)
		}
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	st, err := os.Stat(filepath.Join(out, "opendkim/keys/example.com/202611.private"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key mode: %v %v", st.Mode(), err)
	}
	var m struct {
		Version, Root, Topology string
		Files                   []struct{ Path, Mode, Sha256 string }
	}
	data, _ := os.ReadFile(filepath.Join(out, "bundle.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Root != "/" || m.Topology != "direct" || len(m.Files) < 14 {
		t.Errorf("manifest: %+v", m)
	}

	// Re-running changes nothing and says so; the key is the same.
	key1, _ := os.ReadFile(filepath.Join(out, "opendkim/keys/example.com/202611.private"))
	code, stdout, stderr = run(t, "generate", "--answers", filepath.Join(dir, "answers.yaml"), "--out", out)
	if code != 0 || stdout != "" || !strings.Contains(stderr, "no changes") {
		t.Errorf("re-run: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	key2, _ := os.ReadFile(filepath.Join(out, "opendkim/keys/example.com/202611.private"))
	if !bytes.Equal(key1, key2) {
		t.Error("re-run replaced the key")
	}

	// A hand-edited file is not overwritten without --force.
	snippet := filepath.Join(out, "postfix/main.cf.snippet")
	if err := os.WriteFile(snippet, []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, "generate", "--answers", filepath.Join(dir, "answers.yaml"), "--out", out)
	if code != 3 || !strings.Contains(stderr, "main.cf.snippet") {
		t.Errorf("edited file: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(snippet); string(b) != "edited\n" {
		t.Error("refused run changed the edited file")
	}
	code, _, stderr = run(t, "generate", "--answers", filepath.Join(dir, "answers.yaml"), "--out", out, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(snippet); string(b) == "edited\n" {
		t.Error("--force did not replace the edited file")
	}
}

func TestGenerateReusesSelectorOfExistingKey(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle")
	ans := writeAnswers(t, dir, direct)
	if code, _, stderr := run(t, "generate", "--answers", ans, "--out", out); code != 0 {
		t.Fatal(stderr)
	}
	old := generate.Now
	generate.Now = func() time.Time { return time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) }
	defer func() { generate.Now = old }()
	code, _, stderr := run(t, "generate", "--answers", ans, "--out", out)
	if code != 0 || !strings.Contains(stderr, "no changes") {
		t.Errorf("next month: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "opendkim/keys/example.com/202703.private")); err == nil {
		t.Error("a new selector was made although a key existed")
	}
}

func TestGenerateBadAnswers(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"typo", "server: {hostnme: mail.example.com}\n", []string{`server.hostnme: is not a known key — did you mean "hostname"?`}},
		{"open relay", direct + "relay: {upstream: {networks: [0.0.0.0/0]}}\n", []string{`relay.upstream.networks[0]: "0.0.0.0/0"`, "sasl: true"}},
		{"several at once", "server: {hostname: mail, ipv4: [10.0.0.1]}\ndomains: [{name: \"exa mple.com\"}]\n",
			[]string{`server.hostname: "mail" is not fully qualified`, `server.ipv4[0]: "10.0.0.1" is a private address`, `domains[0].name: "exa mple.com" is not a domain name`}},
		{"bad public key", "server: {hostname: mail.example.com, ipv4: [203.0.113.10]}\ndomains: [{name: example.com, dkim: {public_key: \"not-a-key\"}}]\n",
			[]string{"domains[0].dkim.public_key"}},
		{"not yaml", "server: [\n", []string{"not valid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "bundle")
			code, stdout, stderr := run(t, "generate", "--answers", writeAnswers(t, dir, tt.yaml), "--out", out)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("bundle directory was created: %v", err)
			}
		})
	}
}

func TestGenerateUsage(t *testing.T) {
	if code, _, _ := run(t, "generate", "--out", t.TempDir()); code != 2 {
		t.Errorf("missing --answers: exit %d", code)
	}
	if code, _, _ := run(t, "generate", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
}

func TestGenerateSASLPasswordAndTar(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "bundle")
	ans := writeAnswers(t, dir, direct+"relay: {mode: smarthost, smarthost: {host: relay.example.net, username: relayuser}}\n")
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "bundle.tar.gz")
	code, _, stderr := run(t, "generate", "--answers", ans, "--out", out, "--sasl-password-file", pw, "--tar", tarPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr, "s3cret-pass") {
		t.Error("password printed")
	}
	sp := filepath.Join(out, "postfix/sasl_passwd")
	b, err := os.ReadFile(sp)
	if err != nil || !strings.Contains(string(b), "[relay.example.net]:587 relayuser:s3cret-pass") {
		t.Errorf("sasl_passwd = %q, %v", b, err)
	}
	if st, _ := os.Stat(sp); st.Mode().Perm() != 0o600 {
		t.Errorf("sasl_passwd mode %v", st.Mode())
	}
	if st, _ := os.Stat(tarPath); st.Mode().Perm() != 0o600 {
		t.Errorf("tar mode %v", st.Mode())
	}
	names := tarNames(t, tarPath)
	if names["postfix/sasl_passwd"] || !names["opendkim/keys/example.com/202611.private"] || !names["bundle.json"] {
		t.Errorf("tar holds %v", names)
	}
}

func tarNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names[strings.TrimPrefix(h.Name, "./")] = true
	}
}
