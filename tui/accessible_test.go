package tui

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/publish"
)

// loopbackDNS starts a DNS server on 127.0.0.1 that knows nothing
// (NXDOMAIN for every name), for the dashboard: never a public resolver.
func loopbackDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		m.Authoritative = true
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: mux, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestAccessibleFlow answers every question from a script, then checks
// that the saved answers are the scripted ones and that the bundle is
// what generate makes from them.
func TestAccessibleFlow(t *testing.T) {
	t.Setenv(publish.CloudflareTokenEnv, "")
	opts := testOptions(t)
	opts.Accessible = true
	srv := loopbackDNS(t)
	opts.Check = dnscheck.Config{Resolvers: []string{srv}, Authoritative: []string{srv}, Timeout: 200 * time.Millisecond}
	want := &answers.Answers{
		Server: answers.Server{Hostname: "mx.example.org", IPv4: []string{"203.0.113.10"}, Distro: answers.DistroDebian},
		Domains: []answers.Domain{
			{Name: "example.org", DKIM: answers.DKIM{Selector: "202606", Algorithm: answers.AlgBoth, Bits: 2048},
				DMARC: answers.DMARC{Policy: "quarantine", RUA: "mailto:dmarc@example.org"}},
			{Name: "example.net", DKIM: answers.DKIM{Selector: "s1", Algorithm: answers.AlgRSA, Bits: 2048},
				DMARC: answers.DMARC{Policy: "none"}},
		},
		Relay: answers.Relay{Mode: answers.ModeSmarthost, Smarthost: answers.Smarthost{
			Host: "relay.example.net", Port: 587, Username: "bob", SPF: []string{"include:_spf.example.net"},
		}},
		DNS: answers.DNS{Provider: answers.ProviderCloudflare},
	}
	want.Defaults(testNow)
	seedKeys(t, opts.BundleDir, want.Signers())

	script := strings.Join([]string{
		// Server: host name, IPv4 (keep the detected one), IPv6 (none).
		"mx.example.org", "", "-",
		// Domains, then "choose per domain".
		"example.org, example.net", "2",
		// example.org: selector (keep), both, quarantine, rua (keep).
		"", "2", "2", "",
		// example.net: a bad selector first (asked again), then s1; rsa, none, no reports.
		"bad selector", "s1", "", "", "-",
		// Topology: smarthost, no upstream.
		"4", "1",
		// Smarthost: host, port (keep 587), user, password, all destinations, SPF.
		"relay.example.net", "", "bob", "s3cret-pw", "", "include:_spf.example.net",
		// DNS provider: Cloudflare; no token file (the environment variable, unset here).
		"2", "",
		// Write the bundle.
		"y",
	}, "\n") + "\n"
	opts.In = strings.NewReader(script)
	var out bytes.Buffer
	opts.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	code, err := Run(ctx, opts)
	if err != nil || code != 0 {
		t.Fatalf("Run = %d, %v\n%s", code, err, out.String())
	}
	for _, s := range []string{"mail.example.com", "Step 6 of 10: Review", "is not a selector", "sasl_passwd", "Step 10 of 10: Live checks", "_domainkey",
		"== Step 9 of 10: Publish ==", "cloudflare: no API token: set CLOUDFLARE_API_TOKEN"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("accessible output holds escape sequences")
	}
	if strings.Contains(out.String(), "s3cret-pw") {
		t.Error("the password was printed")
	}

	raw, err := os.ReadFile(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw, err := answers.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, wantRaw) {
		t.Errorf("saved answers:\n%s\nwant:\n%s", raw, wantRaw)
	}
	if strings.Contains(string(raw), "s3cret") {
		t.Error("the password is in the answers file")
	}

	// The bundle is what generate makes from the same answers and keys.
	ref := t.TempDir()
	seedKeys(t, ref, want.Signers())
	_, files, created, err := generate.Render(generate.Options{Answers: want, Out: ref, SASLPassword: "s3cret-pw", Version: "test", Rand: rand.Reader})
	if err != nil || len(created) > 0 {
		t.Fatalf("Render: %v (created %v)", err, created)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(opts.BundleDir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Equal(data, f.Data) {
			t.Errorf("%s differs from generate's", f.Path)
		}
	}
}

// TestAccessibleInputEnds saves the answers and stops when the script
// runs out before the bundle is written.
func TestAccessibleInputEnds(t *testing.T) {
	opts := testOptions(t)
	opts.Accessible = true
	opts.In = strings.NewReader("mx.example.org\n")
	code, err := Run(context.Background(), opts)
	if code != 130 || err == nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	a, err := answers.Load(opts.AnswersPath)
	if err != nil {
		t.Fatal(err)
	}
	if a.Server.Hostname != "mx.example.org" {
		t.Errorf("saved %+v", a.Server)
	}
	if _, err := os.Stat(opts.BundleDir); !os.IsNotExist(err) {
		t.Errorf("a bundle was written: %v", err)
	}
}
