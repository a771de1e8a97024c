package testdaemons

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// SMTPStubOptions say what the SMTP stand-in demands of its clients.
type SMTPStubOptions struct {
	// Hostname is the name in the greeting and the EHLO reply, and the DNS
	// name of the server certificate (which also holds the IP 127.0.0.1
	// and the name localhost). Default: smarthost.stub.test.
	Hostname string
	// RequireTLS refuses MAIL before STARTTLS (530 5.7.0).
	RequireTLS bool
	// RequestClientCert asks the client for a certificate during the TLS
	// handshake (tls.RequestClientCert: not required, not verified) and
	// records its subject.
	RequestClientCert bool
	// Username and Password, when Username is set, make AUTH PLAIN and
	// AUTH LOGIN available after STARTTLS (never before, like Office 365)
	// and required before MAIL (530 5.7.0).
	Username, Password string
}

// StubMessage is one message the stand-in accepted.
type StubMessage struct {
	Helo  string   // the EHLO/HELO argument
	From  string   // MAIL FROM address, without <> and parameters
	Rcpts []string // RCPT TO addresses
	// Data is the message as received: CRLF line ends, dot-stuffing
	// removed, without the final ".".
	Data []byte
	// TLSVersion is the negotiated TLS version (tls.VersionTLS13, ...),
	// 0 when the message came without STARTTLS.
	TLSVersion uint16
	// ClientCertSubject is the subject of the certificate the client
	// presented (pkix.Name.String, e.g. "CN=mail.example.test"), or "".
	ClientCertSubject string
	// ClientCertCN is that certificate's common name, or "".
	ClientCertCN string
	// AuthUser is the user name the client authenticated as, or "".
	AuthUser string
	// AuthMech is the SASL mechanism used (PLAIN or LOGIN), or "".
	AuthMech string
}

// TLS reports whether the message came over TLS.
func (m StubMessage) TLS() bool { return m.TLSVersion != 0 }

// SMTPStub is a small SMTP server on 127.0.0.1 standing in for a relay
// that smtp-sink cannot play: Office 365's smart host or SMTP AUTH
// endpoint, a smarthost with STARTTLS and AUTH. It keeps every message
// it accepts in memory.
type SMTPStub struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// CAFile is the PEM file of the test CA that signed the server
	// certificate (for Postfix's smtp_tls_CAfile). It sits in a Dir made
	// searchable (o+x) so that Postfix processes can read it; mode 0644.
	CAFile string
	// CAPool holds the same CA, for Go clients.
	CAPool *x509.CertPool

	t    testing.TB
	opts SMTPStubOptions
	ln   net.Listener
	tls  *tls.Config

	mu    sync.Mutex
	msgs  []StubMessage
	log   []string // the conversations, shown when the test fails
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// StartSMTPStub starts the stand-in on a free loopback port and stops it
// at cleanup, closing open connections. It offers STARTTLS with a server
// certificate from a CA generated here (CAFile).
func StartSMTPStub(t testing.TB, opts SMTPStubOptions) *SMTPStub {
	t.Helper()
	if opts.Hostname == "" {
		opts.Hostname = "smarthost.stub.test"
	}
	dir := Dir(t)
	if err := allowSearch(dir); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	caPEM, leaf, err := stubCerts(opts.Hostname)
	if err != nil {
		t.Fatalf("testdaemons: stub certificates: %v", err)
	}
	caFile := filepath.Join(dir, "stub-ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testdaemons: %v", err)
	}
	s := &SMTPStub{
		Addr:   ln.Addr().String(),
		CAFile: caFile,
		CAPool: pool,
		t:      t,
		opts:   opts,
		ln:     ln,
		tls: &tls.Config{
			Certificates: []tls.Certificate{leaf},
			MinVersion:   tls.VersionTLS12,
		},
		conns: map[net.Conn]bool{},
	}
	if opts.RequestClientCert {
		s.tls.ClientAuth = tls.RequestClientCert
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("testdaemons: SMTP stub %s conversations:\n%s", s.Addr, strings.Join(s.log, "\n"))
			s.mu.Unlock()
		}
	})
	return s
}

// Messages returns the messages accepted so far.
func (s *SMTPStub) Messages() []StubMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StubMessage(nil), s.msgs...)
}

// WaitMessages waits until at least n messages were accepted and returns
// them all, oldest first; it fails the test (the one that started the
// stub; call it from that test's goroutine) after timeout.
func (s *SMTPStub) WaitMessages(n int, timeout time.Duration) []StubMessage {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testdaemons: SMTP stub %s: %d message(s) after %s, want %d", s.Addr, len(s.Messages()), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns the conversations so far: one line per command and reply.
func (s *SMTPStub) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

func (s *SMTPStub) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (s *SMTPStub) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.session(c)
		}()
	}
}

// stubSession is the state of one SMTP connection.
type stubSession struct {
	s      *SMTPStub
	id     string
	conn   net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	helo   string
	tlsVer uint16
	cert   *x509.Certificate
	user   string
	mech   string
	from   string
	hasTx  bool
	rcpts  []string
}

func (ss *stubSession) reply(lines ...string) error {
	for _, l := range lines {
		ss.s.logf("%s S: %s", ss.id, l)
		if _, err := ss.w.WriteString(l + "\r\n"); err != nil {
			return err
		}
	}
	return ss.w.Flush()
}

// readLine reads one CRLF- (or LF-) terminated line without its end.
func (ss *stubSession) readLine() (string, error) {
	_ = ss.conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	l, err := ss.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(l, "\r\n"), nil
}

func (s *SMTPStub) session(c net.Conn) {
	defer c.Close()
	ss := &stubSession{s: s, id: c.RemoteAddr().String(), conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	if err := ss.reply("220 " + s.opts.Hostname + " ESMTP sendready test stub"); err != nil {
		return
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.logf("%s read: %v", ss.id, err)
			}
			return
		}
		if strings.HasPrefix(strings.ToUpper(line), "AUTH ") {
			s.logf("%s C: AUTH %s ...", ss.id, strings.Fields(line + " x")[1])
		} else {
			s.logf("%s C: %s", ss.id, line)
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ss.helo = arg
			ss.resetTx()
			if strings.EqualFold(verb, "HELO") {
				err = ss.reply("250 " + s.opts.Hostname)
				break
			}
			ext := []string{"8BITMIME", "SIZE 52428800"}
			if ss.tlsVer == 0 {
				ext = append(ext, "STARTTLS")
			} else if s.opts.Username != "" {
				ext = append(ext, "AUTH PLAIN LOGIN")
			}
			lines := []string{"250-" + s.opts.Hostname + " hello " + arg}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				lines = append(lines, "250"+sep+e)
			}
			err = ss.reply(lines...)
		case "STARTTLS":
			if ss.tlsVer != 0 {
				err = ss.reply("503 5.5.1 TLS already active")
				break
			}
			if err := ss.reply("220 2.0.0 Ready to start TLS"); err != nil {
				return
			}
			tc := tls.Server(c, s.tls)
			_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tc.Handshake(); err != nil {
				s.logf("%s TLS handshake: %v", ss.id, err)
				return
			}
			_ = tc.SetDeadline(time.Time{})
			st := tc.ConnectionState()
			ss.tlsVer = st.Version
			if len(st.PeerCertificates) > 0 {
				ss.cert = st.PeerCertificates[0]
			}
			s.logf("%s TLS %s, client certificate: %v", ss.id, tls.VersionName(st.Version), ss.cert != nil)
			ss.conn = tc
			ss.r = bufio.NewReader(tc)
			ss.w = bufio.NewWriter(tc)
			// RFC 3207: forget everything learnt before TLS.
			ss.helo = ""
			ss.resetTx()
		case "AUTH":
			err = ss.auth(arg)
		case "MAIL":
			switch {
			case ss.helo == "":
				err = ss.reply("503 5.5.1 EHLO first")
			case s.opts.RequireTLS && ss.tlsVer == 0:
				err = ss.reply("530 5.7.0 Must issue a STARTTLS command first")
			case s.opts.Username != "" && ss.user == "":
				err = ss.reply("530 5.7.0 Authentication required")
			case ss.hasTx:
				err = ss.reply("503 5.5.1 Nested MAIL command")
			default:
				addr, ok := pathArg(arg, "FROM:")
				if !ok {
					err = ss.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
					break
				}
				ss.from, ss.hasTx = addr, true
				err = ss.reply("250 2.1.0 Ok")
			}
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !ss.hasTx:
				err = ss.reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				err = ss.reply("501 5.5.4 Syntax: RCPT TO:<address>")
			default:
				ss.rcpts = append(ss.rcpts, addr)
				err = ss.reply("250 2.1.5 Ok")
			}
		case "DATA":
			if !ss.hasTx || len(ss.rcpts) == 0 {
				err = ss.reply("503 5.5.1 RCPT first")
				break
			}
			if err := ss.reply("354 End data with <CR><LF>.<CR><LF>"); err != nil {
				return
			}
			data, rerr := ss.readData()
			if rerr != nil {
				s.logf("%s DATA: %v", ss.id, rerr)
				return
			}
			m := StubMessage{Helo: ss.helo, From: ss.from, Rcpts: ss.rcpts, Data: data,
				TLSVersion: ss.tlsVer, AuthUser: ss.user, AuthMech: ss.mech}
			if ss.cert != nil {
				m.ClientCertSubject = ss.cert.Subject.String()
				m.ClientCertCN = ss.cert.Subject.CommonName
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			n := len(s.msgs)
			s.mu.Unlock()
			ss.resetTx()
			err = ss.reply(fmt.Sprintf("250 2.0.0 Ok: queued as STUB%d", n))
		case "RSET":
			ss.resetTx()
			err = ss.reply("250 2.0.0 Ok")
		case "NOOP":
			err = ss.reply("250 2.0.0 Ok")
		case "QUIT":
			_ = ss.reply("221 2.0.0 Bye")
			return
		default:
			err = ss.reply("502 5.5.2 Command not recognized")
		}
		if err != nil {
			return
		}
	}
}

func (ss *stubSession) resetTx() {
	ss.from, ss.hasTx, ss.rcpts = "", false, nil
}

// auth runs AUTH PLAIN or AUTH LOGIN, with or without an initial response.
func (ss *stubSession) auth(arg string) error {
	o := ss.s.opts
	switch {
	case o.Username == "":
		return ss.reply("502 5.5.1 AUTH not offered")
	case ss.tlsVer == 0:
		return ss.reply("538 5.7.11 Encryption required for requested authentication mechanism")
	case ss.user != "":
		return ss.reply("503 5.5.1 Already authenticated")
	case ss.hasTx:
		return ss.reply("503 5.5.1 AUTH not permitted during a mail transaction")
	}
	mech, initial, _ := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	// challenge sends a 334 and returns the decoded answer.
	challenge := func(prompt string) (string, bool, error) {
		if err := ss.reply("334 " + base64.StdEncoding.EncodeToString([]byte(prompt))); err != nil {
			return "", false, err
		}
		l, err := ss.readLine()
		if err != nil {
			return "", false, err
		}
		ss.s.logf("%s C: (credentials)", ss.id)
		if l == "*" {
			return "", false, nil
		}
		b, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			return "", false, nil
		}
		return string(b), true, nil
	}
	var user, pass string
	switch mech {
	case "PLAIN":
		var resp string
		if initial != "" && initial != "=" {
			b, err := base64.StdEncoding.DecodeString(initial)
			if err != nil {
				return ss.reply("501 5.5.2 Cannot decode response")
			}
			resp = string(b)
		} else {
			r, ok, err := challenge("")
			if err != nil {
				return err
			}
			if !ok {
				return ss.reply("501 5.7.0 Authentication cancelled")
			}
			resp = r
		}
		parts := strings.Split(resp, "\x00")
		if len(parts) != 3 {
			return ss.reply("501 5.5.2 Bad PLAIN response")
		}
		user, pass = parts[1], parts[2]
	case "LOGIN":
		if initial != "" {
			b, err := base64.StdEncoding.DecodeString(initial)
			if err != nil {
				return ss.reply("501 5.5.2 Cannot decode response")
			}
			user = string(b)
		} else {
			u, ok, err := challenge("Username:")
			if err != nil {
				return err
			}
			if !ok {
				return ss.reply("501 5.7.0 Authentication cancelled")
			}
			user = u
		}
		p, ok, err := challenge("Password:")
		if err != nil {
			return err
		}
		if !ok {
			return ss.reply("501 5.7.0 Authentication cancelled")
		}
		pass = p
	default:
		return ss.reply("504 5.5.4 Unrecognized authentication type")
	}
	if user != o.Username || pass != o.Password {
		ss.s.logf("%s AUTH %s as %q failed", ss.id, mech, user)
		return ss.reply("535 5.7.8 Authentication credentials invalid")
	}
	ss.user, ss.mech = user, mech
	ss.s.logf("%s AUTH %s as %q", ss.id, mech, user)
	return ss.reply("235 2.7.0 Authentication successful")
}

// readData reads the DATA section up to the lone ".", keeping CRLF line
// ends (DKIM's simple body canonicalization must see the bytes as sent)
// and removing dot-stuffing.
func (ss *stubSession) readData() ([]byte, error) {
	var b bytes.Buffer
	for {
		_ = ss.conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
		l, err := ss.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if l == ".\r\n" || l == ".\n" {
			return b.Bytes(), nil
		}
		if strings.HasPrefix(l, ".") {
			l = l[1:]
		}
		if !strings.HasSuffix(l, "\r\n") {
			l = strings.TrimSuffix(l, "\n") + "\r\n"
		}
		b.WriteString(l)
	}
}

// pathArg parses "FROM:<addr> PARAMS" (prefix "FROM:") into addr.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// stubCerts makes a CA and a server certificate signed by it for host,
// localhost and 127.0.0.1. It returns the CA as PEM and the server pair.
func stubCerts(host string) ([]byte, tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sendready test CA", Organization: []string{"sendready tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host, "localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, nil
}
