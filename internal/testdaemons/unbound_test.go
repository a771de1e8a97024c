package testdaemons_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/sendready/sendready/internal/testdaemons"
)

// txtAt asks server for the TXT record of name and returns its joined
// strings and TTL; ok is false when there is no TXT answer.
func txtAt(t *testing.T, server, name string) (value string, ttl uint32, ok bool) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("TXT %s at %s: %v", name, server, err)
	}
	for _, rr := range r.Answer {
		if txt, isTXT := rr.(*dns.TXT); isTXT {
			return strings.Join(txt.Txt, ""), txt.Hdr.Ttl, true
		}
	}
	return "", 0, false
}

// TestUnboundCachesKnot: unbound in front of Knot keeps serving a TXT
// record after the zone changed, counting its TTL down, until the TTL runs
// out; then it serves the new value.
func TestUnboundCachesKnot(t *testing.T) {
	testdaemons.Require(t, "knotd", "knotc", "unbound")
	const (
		zone = "example.test"
		name = "_dmarc.example.test."
		ttl  = 2
	)
	k := testdaemons.StartKnot(t, map[string]string{
		zone:               "_dmarc 2 IN TXT \"v=DMARC1; p=none\"\n",
		"127.in-addr.arpa": "1.0.0 PTR mail.example.test.\n",
	})
	u := testdaemons.StartUnbound(t, k.Addr, []string{zone, "127.in-addr.arpa"})

	t.Run("reverse zone under a built-in local zone", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion("1.0.0.127.in-addr.arpa.", dns.TypePTR)
		r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, u.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.PTR).Ptr != "mail.example.test." {
			t.Fatalf("PTR answer:\n%s", r)
		}
	})

	v, got, ok := txtAt(t, u.Addr, name)
	cachedAt := time.Now()
	if !ok || v != "v=DMARC1; p=none" || got > ttl {
		t.Fatalf("first answer through unbound: %q TTL %d (found %v)", v, got, ok)
	}

	k.UpdateZone(t, zone, "_dmarc 2 IN TXT \"v=DMARC1; p=reject\"\n")
	if v, _, _ := txtAt(t, k.Addr, name); v != "v=DMARC1; p=reject" {
		t.Fatalf("knotd serves %q after UpdateZone", v)
	}

	// Poll unbound: the old value, with a TTL that only goes down, until
	// the cached answer expires; then the new one.
	var ttls []uint32
	deadline := cachedAt.Add((ttl + 3) * time.Second)
	for {
		v, got, ok := txtAt(t, u.Addr, name)
		elapsed := time.Since(cachedAt)
		if !ok {
			t.Fatalf("no TXT answer from unbound after %s", elapsed)
		}
		if v == "v=DMARC1; p=reject" {
			// unbound counts whole seconds: an answer cached late in a
			// second expires a little over ttl-1 seconds later.
			if elapsed < (ttl-1)*time.Second {
				t.Errorf("new value after %s, before the TTL of %d s ran out", elapsed, ttl)
			}
			t.Logf("new value after %s; cached TTLs seen: %v", elapsed.Round(time.Millisecond), ttls)
			break
		}
		if v != "v=DMARC1; p=none" {
			t.Fatalf("unbound serves %q", v)
		}
		if n := len(ttls); n > 0 && got > ttls[n-1] {
			t.Errorf("cached TTL went up: %v then %d", ttls, got)
		}
		if n := len(ttls); n == 0 || got != ttls[n-1] {
			ttls = append(ttls, got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound still serves the old value %s after the first answer (TTLs %v)", elapsed, ttls)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(ttls) < 2 {
		t.Errorf("cached TTL did not count down: %v", ttls)
	}
}
