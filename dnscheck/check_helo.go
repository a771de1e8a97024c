package dnscheck

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// heloTimeout bounds a whole SMTP probe when ctx has no earlier deadline.
const heloTimeout = 15 * time.Second

// heloClientName is the name this probe introduces itself with.
const heloClientName = "sendready.invalid"

// ProbeHELO is the helo check: it connects to exp.SMTP (and nothing
// else), reads the 220 banner and the EHLO reply, says QUIT, and compares
// the announced name with the hostname — or, when smtp_helo_name
// overrides the outbound HELO name, compares that override. It reports
// whether STARTTLS is offered. Skipped unless exp.SMTP is set.
func ProbeHELO(ctx context.Context, exp Expect) Result {
	r := Result{ID: CheckHELO, Domain: bare(exp.Domain), Name: exp.SMTP, Type: "SMTP", Observations: []Observation{}}
	if exp.SMTP == "" {
		r.Status, r.Detail = StatusSkipped, "no SMTP address to probe"
		return r
	}
	if host, _, err := net.SplitHostPort(exp.SMTP); err == nil {
		r.IP = host
	}
	host := bare(exp.Hostname)
	want := host
	if exp.HELOOverride != "" {
		want = bare(exp.HELOOverride)
	}
	r.Expected = want
	p, err := smtpProbe(ctx, exp.SMTP)
	ob := Observation{Server: exp.SMTP, Rcode: p.code, Values: p.lines, Status: StatusPass}
	if ob.Values == nil {
		ob.Values = []string{}
	}
	if err != nil {
		ob.Status, ob.Error = StatusError, err.Error()
		r.Observations = append(r.Observations, ob)
		r.Status = StatusFail
		r.Detail = fmt.Sprintf("SMTP probe of %s failed: %v", exp.SMTP, err)
		r.Fix = "check that the mail server runs and that port 25 is open to the Internet (firewall, provider blocks)"
		return r
	}
	announced := p.ehloName
	if announced == "" {
		announced = p.bannerName
	}
	var probs []string
	r.Status = StatusPass
	switch {
	case host == "":
		r.Detail = fmt.Sprintf("%s announces itself as %s", exp.SMTP, announced)
	case exp.HELOOverride != "":
		if !sameName(want, host) {
			r.Status = StatusFail
			probs = append(probs, fmt.Sprintf("smtp_helo_name overrides the outbound HELO name: %s, not the PTR name %s", want, host))
			r.Fix = fmt.Sprintf("in main.cf set smtp_helo_name = %s (or remove it so that myhostname is used)", host)
		} else {
			probs = append(probs, fmt.Sprintf("outbound HELO name is smtp_helo_name = %s", want))
		}
		if !sameName(announced, host) {
			r.Status = Worse(r.Status, StatusWarn)
			probs = append(probs, fmt.Sprintf("the server announces %s (myhostname), expected %s", announced, host))
		}
	case !sameName(announced, host):
		r.Status = StatusFail
		probs = append(probs, fmt.Sprintf("%s announces itself as %s, expected %s", exp.SMTP, announced, host))
		r.Fix = fmt.Sprintf("in main.cf set myhostname = %s, then postfix reload", host)
	default:
		probs = append(probs, fmt.Sprintf("%s announces itself as %s", exp.SMTP, announced))
	}
	if p.starttls {
		probs = append(probs, "STARTTLS offered")
	} else {
		r.Status = Worse(r.Status, StatusWarn)
		probs = append(probs, "STARTTLS not offered: mail to this server travels in cleartext")
		if r.Fix == "" {
			r.Fix = "in main.cf set smtpd_tls_cert_file, smtpd_tls_key_file and smtpd_tls_security_level = may"
		}
	}
	r.Detail = strings.Join(probs, "; ")
	if r.Status == StatusFail {
		ob.Status = StatusFail
	}
	r.Observations = append(r.Observations, ob)
	return r
}

// probe is what an SMTP server said.
type probe struct {
	code       string
	lines      []string
	bannerName string
	ehloName   string
	starttls   bool
}

func smtpProbe(ctx context.Context, addr string) (probe, error) {
	var p probe
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, heloTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return p, fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	tp := textproto.NewConn(conn)
	tp.R = bufio.NewReader(conn)
	code, msg, err := tp.ReadResponse(220)
	p.code = fmt.Sprint(code)
	p.lines = append(p.lines, fmt.Sprintf("%d %s", code, strings.ReplaceAll(msg, "\n", " / ")))
	if err != nil {
		return p, fmt.Errorf("reading the banner: %w", err)
	}
	p.bannerName = firstWord(msg)
	if err := tp.PrintfLine("EHLO %s", heloClientName); err != nil {
		return p, fmt.Errorf("sending EHLO: %w", err)
	}
	code, msg, err = tp.ReadResponse(250)
	p.code += "/" + fmt.Sprint(code)
	p.lines = append(p.lines, fmt.Sprintf("%d %s", code, strings.ReplaceAll(msg, "\n", " / ")))
	if err != nil {
		return p, fmt.Errorf("reading the EHLO reply: %w", err)
	}
	ext := strings.Split(msg, "\n")
	p.ehloName = firstWord(ext[0])
	for _, e := range ext[1:] {
		if strings.EqualFold(firstWord(e), "STARTTLS") {
			p.starttls = true
		}
	}
	_ = tp.PrintfLine("QUIT")
	_, _, _ = tp.ReadResponse(221)
	return p, nil
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
