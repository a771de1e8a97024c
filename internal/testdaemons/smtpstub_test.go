package testdaemons

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"
)

// stubLogin is SASL LOGIN, which net/smtp lacks.
type stubLogin struct{ user, pass string }

func (a stubLogin) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a stubLogin) Next(from []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch string(from) {
	case "Username:":
		return []byte(a.user), nil
	case "Password:":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", from)
}

// stubSend runs one SMTP session against the stub: EHLO, STARTTLS when
// tlsConf is set, AUTH when auth is set, then one message. It returns the
// first error.
func stubSend(t *testing.T, addr string, tlsConf *tls.Config, auth smtp.Auth, from string, to []string, body string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.example.test"); err != nil {
		return err
	}
	if tlsConf != nil {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("STARTTLS not offered")
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestSMTPStubAuth(t *testing.T) {
	s := StartSMTPStub(t, SMTPStubOptions{Username: "relay@example.test", Password: "s3cret pass", RequireTLS: true})
	if fi, err := os.Stat(s.CAFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("CA file %s: %v %v", s.CAFile, fi, err)
	}
	tlsConf := &tls.Config{ServerName: "smarthost.stub.test", RootCAs: s.CAPool}
	body := "From: a@example.test\r\nTo: b@example.org\r\nSubject: hi\r\n\r\n.leading dot\r\nline\r\n"

	t.Run("plain", func(t *testing.T) {
		err := stubSend(t, s.Addr, tlsConf, smtp.PlainAuth("", "relay@example.test", "s3cret pass", "127.0.0.1"),
			"envelope@example.test", []string{"b@example.org", "c@example.org"}, body)
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("login", func(t *testing.T) {
		err := stubSend(t, s.Addr, tlsConf, stubLogin{"relay@example.test", "s3cret pass"}, "x@example.test", []string{"d@example.org"}, body)
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		err := stubSend(t, s.Addr, tlsConf, smtp.PlainAuth("", "relay@example.test", "wrong", "127.0.0.1"), "x@example.test", []string{"d@example.org"}, body)
		if smtpCode(err) != 535 {
			t.Errorf("err = %v, want 535", err)
		}
	})
	t.Run("no auth", func(t *testing.T) {
		err := stubSend(t, s.Addr, tlsConf, nil, "x@example.test", []string{"d@example.org"}, body)
		if smtpCode(err) != 530 {
			t.Errorf("err = %v, want 530", err)
		}
	})
	t.Run("no tls", func(t *testing.T) {
		c, err := smtp.Dial(s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("client.example.test"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := c.Extension("AUTH"); ok {
			t.Error("AUTH offered before STARTTLS")
		}
		if err := c.Mail("x@example.test"); smtpCode(err) != 530 {
			t.Errorf("MAIL before STARTTLS: %v, want 530", err)
		}
	})

	msgs := s.WaitMessages(2, 5*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	m := msgs[0]
	if m.From != "envelope@example.test" || strings.Join(m.Rcpts, ",") != "b@example.org,c@example.org" {
		t.Errorf("envelope: from %q rcpts %q", m.From, m.Rcpts)
	}
	if !m.TLS() || m.TLSVersion < tls.VersionTLS12 {
		t.Errorf("TLS version %x", m.TLSVersion)
	}
	if m.AuthUser != "relay@example.test" || m.AuthMech != "PLAIN" {
		t.Errorf("auth %q %q", m.AuthUser, m.AuthMech)
	}
	if m.Helo != "client.example.test" {
		t.Errorf("helo %q", m.Helo)
	}
	if m.ClientCertSubject != "" {
		t.Errorf("client certificate %q without a request", m.ClientCertSubject)
	}
	// net/smtp dot-stuffs and ends lines with CRLF; the stub undoes the
	// stuffing and keeps CRLF.
	if string(m.Data) != body {
		t.Errorf("data %q, want %q", m.Data, body)
	}
	if msgs[1].AuthMech != "LOGIN" || msgs[1].AuthUser != "relay@example.test" {
		t.Errorf("second message auth %q %q", msgs[1].AuthUser, msgs[1].AuthMech)
	}
}

func TestSMTPStubClientCert(t *testing.T) {
	s := StartSMTPStub(t, SMTPStubOptions{RequestClientCert: true})
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "mail.example.test"},
		DNSNames:     []string{"mail.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	body := "Subject: x\r\n\r\nbody\r\n"
	with := &tls.Config{ServerName: "localhost", RootCAs: s.CAPool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	if err := stubSend(t, s.Addr, with, nil, "a@example.test", []string{"b@example.org"}, body); err != nil {
		t.Fatal(err)
	}
	without := &tls.Config{ServerName: "127.0.0.1", RootCAs: s.CAPool}
	if err := stubSend(t, s.Addr, without, nil, "a@example.test", []string{"b@example.org"}, body); err != nil {
		t.Fatal(err)
	}
	// Plain SMTP is allowed without RequireTLS.
	if err := stubSend(t, s.Addr, nil, nil, "a@example.test", []string{"b@example.org"}, body); err != nil {
		t.Fatal(err)
	}
	msgs := s.WaitMessages(3, 5*time.Second)
	if msgs[0].ClientCertCN != "mail.example.test" || msgs[0].ClientCertSubject != "CN=mail.example.test" {
		t.Errorf("client certificate %q / %q", msgs[0].ClientCertSubject, msgs[0].ClientCertCN)
	}
	if msgs[1].ClientCertSubject != "" || !msgs[1].TLS() {
		t.Errorf("second message: certificate %q TLS %v", msgs[1].ClientCertSubject, msgs[1].TLS())
	}
	if msgs[2].TLS() || msgs[2].AuthUser != "" {
		t.Errorf("third message: TLS %v auth %q", msgs[2].TLS(), msgs[2].AuthUser)
	}
}
