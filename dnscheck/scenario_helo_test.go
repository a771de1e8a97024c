package dnscheck

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
)

// startSMTP starts a tiny SMTP responder on 127.0.0.1:0 that greets as
// name and offers STARTTLS when tls is set.
func startSMTP(t *testing.T, name string, tls bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				c.Write([]byte("220 " + name + " ESMTP test\r\n"))
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
					case "EHLO":
						reply := "250-" + name + "\r\n250-PIPELINING\r\n"
						if tls {
							reply += "250-STARTTLS\r\n"
						}
						c.Write([]byte(reply + "250 8BITMIME\r\n"))
					case "QUIT":
						c.Write([]byte("221 bye\r\n"))
						return
					default:
						c.Write([]byte("502 no\r\n"))
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestProbeHELO(t *testing.T) {
	tests := []struct {
		name     string
		announce string
		tls      bool
		override string
		status   Status
		detail   string
	}{
		{"good", "mail.example.com", true, "", StatusPass, "STARTTLS offered"},
		{"wrong name", "localhost.localdomain", true, "", StatusFail, "announces itself as localhost.localdomain"},
		{"no STARTTLS", "mail.example.com", false, "", StatusWarn, "STARTTLS not offered"},
		{"override right", "localhost", true, "mail.example.com", StatusWarn, "smtp_helo_name = mail.example.com"},
		{"override wrong", "mail.example.com", true, "other.example.com", StatusFail, "smtp_helo_name overrides"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := startSMTP(t, tc.announce, tc.tls)
			exp := goodExpect(t)
			exp.SMTP, exp.HELOOverride = addr, tc.override
			r := ProbeHELO(context.Background(), exp)
			if r.Status != tc.status || !strings.Contains(r.Detail, tc.detail) || r.IP != "127.0.0.1" {
				t.Errorf("%s %q ip %q; want %s containing %q", r.Status, r.Detail, r.IP, tc.status, tc.detail)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		exp := goodExpect(t)
		exp.SMTP = addr
		if r := ProbeHELO(context.Background(), exp); r.Status != StatusFail {
			t.Errorf("%s %q", r.Status, r.Detail)
		}
	})
	t.Run("in a round", func(t *testing.T) {
		z := lines(goodZone(t))
		s := world{ns1: z, ns2: z}.start(t)
		exp := goodExpect(t)
		exp.SMTP = startSMTP(t, "mail.example.com", true)
		rep := s.checker.Round(context.Background(), []Expect{exp})
		if r := find(t, rep, CheckHELO, ""); r.Status != StatusPass || rep.Checks[2].ID != CheckHELO {
			t.Errorf("helo %s %q at %d", r.Status, r.Detail, 2)
		}
	})
}
