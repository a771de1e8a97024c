package explain

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// Facts are what the input says about the message and its sender, before
// any judgement.
type Facts struct {
	// FromDomain is the author domain (header.from, the From: of the
	// returned message, a domain named in the bounce text).
	FromDomain string `json:"from_domain,omitempty"`
	// MailFromDomain is the envelope sender's domain (smtp.mailfrom,
	// envelope-from, Return-Path).
	MailFromDomain string `json:"mailfrom_domain,omitempty"`
	// ClientIP is the address the receiver saw the message come from.
	ClientIP string `json:"client_ip,omitempty"`
	// HELO is the name the sending server gave in HELO/EHLO.
	HELO string `json:"helo,omitempty"`
	// Signatures are the DKIM-Signature headers found (d=, s=, i=).
	Signatures []Signature `json:"dkim_signatures,omitempty"`
	// Results are the authentication results found in
	// Authentication-Results, ARC-Authentication-Results and Received-SPF.
	Results []AuthResult `json:"auth_results,omitempty"`
	// Replies are the SMTP replies (basic and enhanced status code, text).
	Replies []Reply `json:"smtp_replies,omitempty"`
	// Hops are the Received headers, newest first.
	Hops []Hop `json:"received,omitempty"`
	// DSN is set when the input is a delivery status notification.
	DSN bool `json:"dsn,omitempty"`
}

// Signature is one DKIM-Signature header.
type Signature struct {
	Domain   string `json:"d"`
	Selector string `json:"s"`
	Identity string `json:"i,omitempty"`
}

// AuthResult is one method's result from an authentication header.
type AuthResult struct {
	// Header is the header it came from: "Authentication-Results",
	// "ARC-Authentication-Results", "Received-SPF" or "DKIM-Result".
	Header string `json:"header"`
	// Method is spf, dkim, dmarc, arc, iprev, compauth, ...
	Method string `json:"method"`
	// Result is the lower-case result value: pass, fail, softfail, none, ...
	Result string `json:"result"`
	// Comment is the text of the comments in the result, such as
	// "bad signature".
	Comment string `json:"comment,omitempty"`
	// Domain is the identity checked: smtp.mailfrom (or smtp.helo) for
	// spf, header.d for dkim, header.from for dmarc.
	Domain   string `json:"domain,omitempty"`
	Selector string `json:"selector,omitempty"`
	IP       string `json:"ip,omitempty"`
	// Reason is the reason= property (compauth's reason code).
	Reason string `json:"reason,omitempty"`
}

// Reply is one SMTP reply, its continuation lines joined.
type Reply struct {
	Code     int    `json:"code,omitempty"` // 550; 0 when only an enhanced code was given
	Enhanced string `json:"enhanced"`       // 5.7.26
	Text     string `json:"text"`
}

// Hop is one Received header: from HELO (IP) by host.
type Hop struct {
	From string `json:"from,omitempty"`
	IP   string `json:"ip,omitempty"`
	By   string `json:"by,omitempty"`
}

// Parse reads a bounce, a DSN, a pasted SMTP error or raw headers and
// returns what they say. It never fails: input it does not understand
// gives empty Facts.
func Parse(data []byte) Facts {
	text := prepare(data)
	var f Facts
	p := &parser{f: &f}
	p.scan(text)
	p.fill()
	return f
}

// prepare normalises line ends, turns the literal "\n" of MTA logs (Exim
// writes multi-line replies so) into line breaks, and decodes a MIME
// message (a DSN with its parts) into plain text: the top headers, then
// every part's decoded content.
func prepare(data []byte) string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	msg, err := mail.ReadMessage(strings.NewReader(s))
	if err != nil || len(msg.Header) == 0 {
		return s
	}
	ct := msg.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "multipart/") {
		return s
	}
	var b strings.Builder
	head, _, _ := strings.Cut(s, "\n\n")
	b.WriteString(head)
	b.WriteString("\n\n")
	walk(&b, ct, msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	return b.String()
}

// walk writes the decoded text of a MIME entity.
func walk(b *strings.Builder, ct, cte string, body io.Reader, depth int) {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < 8 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return
			}
			var hb strings.Builder
			for k, vs := range part.Header {
				for _, v := range vs {
					hb.WriteString(k + ": " + v + "\n")
				}
			}
			pct := part.Header.Get("Content-Type")
			pmt, _, _ := mime.ParseMediaType(pct)
			if pmt == "message/rfc822" || pmt == "text/rfc822-headers" || pmt == "message/delivery-status" || pmt == "message/global-headers" {
				b.WriteString("\n")
			}
			walk(b, pct, part.Header.Get("Content-Transfer-Encoding"), part, depth+1)
			b.WriteString("\n")
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	data, _ := io.ReadAll(io.LimitReader(r, 4<<20))
	b.Write(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")))
}

// newlineStripper drops line breaks from base64 text.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\n' && c != '\r' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

type parser struct {
	f *Facts
	// candidates for the author domain, best first.
	fromAR, fromHeader, fromText, toHeader string
	returnPath                             string
	dsnSender                              string
}

var (
	headerRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$`)
	// replyRE finds "550-5.7.26 text" and "550 5.7.1 text".
	replyRE = regexp.MustCompile(`(?:^|[^0-9.])([245][0-9][0-9])[ -]#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)(.*)$`)
	// enhancedRE finds a bare enhanced status code.
	enhancedRE = regexp.MustCompile(`^\s*#?([245]\.[0-9]{1,3}\.[0-9]{1,3})\b(.*)$`)
	addrRE     = regexp.MustCompile(`[A-Za-z0-9._%+=-]+@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)`)
)

// scan reads the text line by line: headers (unfolded) and SMTP replies.
func (p *parser) scan(text string) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	// Unfold: a line starting with white space continues the header
	// before it (RFC 5322 §2.2.3).
	var logical []string
	isHeader := false
	for _, l := range lines {
		if isHeader && len(logical) > 0 && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && strings.TrimSpace(l) != "" {
			logical[len(logical)-1] += " " + strings.TrimSpace(l)
			continue
		}
		logical = append(logical, l)
		isHeader = headerRE.MatchString(l)
	}
	for _, l := range logical {
		p.line(l)
	}
	p.replies(lines)
}

// line handles one unfolded line.
func (p *parser) line(l string) {
	m := headerRE.FindStringSubmatch(l)
	if m == nil {
		return
	}
	name, value := strings.ToLower(m[1]), strings.TrimSpace(m[2])
	switch name {
	case "authentication-results", "x-original-authentication-results":
		p.authResults("Authentication-Results", value)
	case "arc-authentication-results":
		p.authResults("ARC-Authentication-Results", value)
	case "received-spf":
		p.receivedSPF(value)
	case "dkim-signature":
		p.dkimSignature(value)
	case "dkim-result":
		clean, comments := stripComments(value)
		res := strings.ToLower(firstField(clean))
		if res != "" {
			p.f.Results = append(p.f.Results, AuthResult{Header: "DKIM-Result", Method: "dkim", Result: res, Comment: strings.Join(comments[0], "; ")})
		}
	case "received":
		p.received(value)
	case "from":
		if d := addrDomain(value); d != "" && !isDaemon(value) && p.fromHeader == "" {
			p.fromHeader = d
		}
	case "to":
		if d := addrDomain(value); d != "" && p.toHeader == "" {
			p.toHeader = d
		}
	case "return-path":
		if d := addrDomain(value); d != "" && p.returnPath == "" {
			p.returnPath = d
		}
	case "x-postfix-sender", "x-original-sender":
		if d := addrDomain(value); d != "" {
			p.dsnSender = d
			p.f.DSN = true
		}
	case "content-type":
		if strings.Contains(strings.ToLower(value), "report-type=delivery-status") {
			p.f.DSN = true
		}
	case "reporting-mta", "diagnostic-code", "final-recipient", "action":
		p.f.DSN = true
	case "subject":
		v := strings.ToLower(value)
		for _, w := range []string{"undeliver", "delivery status notification", "mail delivery failed", "returned mail", "delivery has failed", "failure notice"} {
			if strings.Contains(v, w) {
				p.f.DSN = true
			}
		}
	}
}

// replies collects the SMTP replies, joining the continuation lines of a
// multi-line reply ("550-5.7.26 ..." then "550 5.7.26 ...") and merging
// repeats of the same code.
func (p *parser) replies(lines []string) {
	idx := map[string]int{}
	cur := -1 // the reply that indented lines continue
	for _, l := range lines {
		code, enh, rest := 0, "", ""
		if m := replyRE.FindStringSubmatchIndex(l); m != nil {
			code, _ = strconv.Atoi(l[m[2]:m[3]])
			enh, rest = l[m[4]:m[5]], l[m[6]:m[7]]
			// Text before the code on a wrapped line ends the reply before it.
			if cur >= 0 && m[2] > 0 {
				p.appendReply(cur, l[:m[2]])
			}
		} else if h := headerRE.FindStringSubmatch(l); h != nil && strings.EqualFold(h[1], "Status") {
			if m := enhancedRE.FindStringSubmatch(h[2]); m != nil {
				enh, rest = m[1], m[2]
			}
		} else if m := enhancedRE.FindStringSubmatch(l); m != nil && strings.HasPrefix(strings.TrimSpace(l), "#") {
			enh, rest = m[1], m[2]
		}
		if enh == "" {
			// Postfix and Exchange wrap long replies onto indented lines.
			if cur >= 0 && strings.TrimSpace(l) != "" && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
				p.appendReply(cur, l)
			} else {
				cur = -1
			}
			continue
		}
		i, ok := idx[enh]
		if !ok {
			i = len(p.f.Replies)
			idx[enh] = i
			p.f.Replies = append(p.f.Replies, Reply{Code: code, Enhanced: enh})
		}
		if p.f.Replies[i].Code == 0 {
			p.f.Replies[i].Code = code
		}
		p.appendReply(i, rest)
		cur = i
	}
}

// replyCodeRE matches the code prefixes repeated inside a wrapped reply.
var replyCodeRE = regexp.MustCompile(`\b[245][0-9][0-9][ -]#?[245]\.[0-9]{1,3}\.[0-9]{1,3}\b`)

func (p *parser) appendReply(i int, s string) {
	s = strings.Join(strings.Fields(replyCodeRE.ReplaceAllString(s, " ")), " ")
	r := &p.f.Replies[i]
	if s != "" && !strings.Contains(r.Text, s) {
		r.Text = strings.TrimSpace(r.Text + " " + s)
	}
}

// authResults parses an Authentication-Results (or ARC-) header value with
// go-msgauth's authres, one result at a time so that each keeps its
// comments and the properties authres drops (header.s, smtp.remote-ip).
func (p *parser) authResults(header, value string) {
	clean, comments := stripComments(value)
	segs := splitSegments(clean)
	start := 0
	if header == "ARC-Authentication-Results" && strings.HasPrefix(strings.TrimSpace(strings.ToLower(segs[0])), "i=") {
		start = 1
	}
	// The first segment is the authserv-id, unless the header has none
	// (Microsoft writes "Authentication-Results: spf=pass ...").
	if start < len(segs) && !looksLikeResult(segs[start]) {
		start++
	}
	for i := start; i < len(segs); i++ {
		seg := strings.TrimSpace(segs[i])
		if seg == "" {
			continue
		}
		// authres splits at every ";": hide the ones inside quoted strings.
		_, results, err := authres.Parse("sendready; " + hideQuotedSemicolons(seg))
		if err != nil || len(results) == 0 {
			continue
		}
		props := params(seg)
		ar := AuthResult{Header: header, Comment: strings.Join(comments[i], "; "), Reason: props["reason"]}
		switch r := results[0].(type) {
		case *authres.SPFResult:
			ar.Method, ar.Result = "spf", string(r.Value)
			ar.Domain = domainOf(r.From)
			if ar.Domain == "" {
				ar.Domain = domainOf(r.Helo)
			}
			if r.From != "" {
				p.setMailFrom(domainOf(r.From))
			}
			if r.Helo != "" && p.f.HELO == "" {
				p.f.HELO = strings.ToLower(r.Helo)
			}
			ar.IP = ipIn(ar.Comment)
		case *authres.DKIMResult:
			ar.Method, ar.Result = "dkim", string(r.Value)
			ar.Domain = strings.ToLower(r.Domain)
			if ar.Domain == "" {
				ar.Domain = domainOf(r.Identifier)
			}
			ar.Selector = props["header.s"]
			if ar.Domain == "none" {
				ar.Domain = ""
			}
		case *authres.DMARCResult:
			ar.Method, ar.Result = "dmarc", string(r.Value)
			ar.Domain = strings.ToLower(r.From)
			if ar.Domain != "" && p.fromAR == "" {
				p.fromAR = ar.Domain
			}
		case *authres.IPRevResult:
			ar.Method, ar.Result = "iprev", string(r.Value)
			ar.IP = r.IP
			if ar.IP == "" {
				ar.IP = props["smtp.remote-ip"]
			}
		case *authres.ARCResult:
			ar.Method, ar.Result = "arc", string(r.Value)
		case *authres.AuthResult:
			ar.Method, ar.Result = "auth", string(r.Value)
		case *authres.GenericResult:
			ar.Method, ar.Result = r.Method, string(r.Value)
		default:
			continue
		}
		if ip := props["smtp.remote-ip"]; ip != "" && ar.IP == "" {
			ar.IP = ip
		}
		if ar.IP != "" && p.f.ClientIP == "" && isAddr(ar.IP) {
			p.f.ClientIP = ar.IP
		}
		p.f.Results = append(p.f.Results, ar)
	}
}

// receivedSPF parses "Received-SPF: Pass (comment) key=value; ..." (RFC 7208 §9.1).
func (p *parser) receivedSPF(value string) {
	clean, comments := stripComments(value)
	fields := strings.Fields(clean)
	if len(fields) == 0 {
		return
	}
	var all []string
	for _, c := range comments {
		all = append(all, c...)
	}
	ar := AuthResult{Header: "Received-SPF", Method: "spf", Result: strings.ToLower(fields[0]), Comment: strings.Join(all, "; ")}
	props := params(strings.Join(fields[1:], " "))
	ar.IP = props["client-ip"]
	if ar.IP == "" {
		ar.IP = ipIn(ar.Comment)
	}
	if ef := props["envelope-from"]; ef != "" {
		ar.Domain = domainOf(ef)
	}
	if ar.Domain == "" {
		if m := regexp.MustCompile(`domain of (?:\S+@)?([A-Za-z0-9.-]+\.[A-Za-z]{2,})`).FindStringSubmatch(ar.Comment); m != nil {
			ar.Domain = strings.ToLower(m[1])
		}
	}
	if h := props["helo"]; h != "" && p.f.HELO == "" {
		p.f.HELO = strings.ToLower(h)
	}
	if ar.Domain == "" && props["identity"] == "helo" {
		ar.Domain = p.f.HELO
	}
	if ar.Domain != "" && props["identity"] != "helo" {
		p.setMailFrom(ar.Domain)
	}
	if ar.IP != "" && p.f.ClientIP == "" && isAddr(ar.IP) {
		p.f.ClientIP = ar.IP
	}
	p.f.Results = append(p.f.Results, ar)
}

// dkimSignature reads d=, s= and i= of a DKIM-Signature tag list.
func (p *parser) dkimSignature(value string) {
	var sig Signature
	for _, tag := range strings.Split(value, ";") {
		k, v, ok := strings.Cut(tag, "=")
		if !ok {
			continue
		}
		v = strings.Join(strings.Fields(v), "")
		switch strings.TrimSpace(k) {
		case "d":
			sig.Domain = strings.ToLower(strings.TrimSuffix(v, "."))
		case "s":
			sig.Selector = v
		case "i":
			sig.Identity = v
		}
	}
	if sig.Domain != "" || sig.Selector != "" {
		p.f.Signatures = append(p.f.Signatures, sig)
	}
}

var receivedRE = regexp.MustCompile(`(?i)^from\s+(\S+)(?:\s+\(([^)]*)\))?.*?\bby\s+(\S+)`)

// received reads "from HELO (... IP ...) by HOST".
func (p *parser) received(value string) {
	m := receivedRE.FindStringSubmatch(value)
	if m == nil {
		return
	}
	h := Hop{From: strings.ToLower(m[1]), By: strings.ToLower(m[3]), IP: ipIn(m[2])}
	p.f.Hops = append(p.f.Hops, h)
}

// fill settles the author domain from the candidates and the bounce text.
func (p *parser) fill() {
	for _, r := range p.f.Replies {
		if d := domainInText(r.Text); d != "" && p.fromText == "" {
			p.fromText = d
		}
		if m := gmailSPFRE.FindStringSubmatch(r.Text); m != nil && p.f.ClientIP == "" && isAddr(m[2]) {
			p.f.ClientIP = m[2]
		}
	}
	sigDomain := ""
	if len(p.f.Signatures) > 0 {
		sigDomain = p.f.Signatures[0].Domain
	}
	dsnTo := ""
	if p.f.DSN {
		dsnTo = p.toHeader
	}
	for _, d := range []string{p.fromAR, p.fromText, p.fromHeader, p.dsnSender, dsnTo, sigDomain, p.f.MailFromDomain, p.returnPath} {
		if d != "" {
			p.f.FromDomain = d
			break
		}
	}
	if p.f.MailFromDomain == "" {
		switch {
		case p.returnPath != "" && !p.f.DSN:
			p.f.MailFromDomain = p.returnPath
		case p.dsnSender != "":
			p.f.MailFromDomain = p.dsnSender
		}
	}
}

func (p *parser) setMailFrom(d string) {
	if d != "" && p.f.MailFromDomain == "" {
		p.f.MailFromDomain = d
	}
}

var (
	gmailSPFRE   = regexp.MustCompile(`SPF \[([^\]\s]+)\] with ip: \[([^\]\s]+)\]`)
	textDomainRE = []*regexp.Regexp{
		gmailSPFRE,
		regexp.MustCompile(`DKIM \[([^\]\s]+)\]`),
		regexp.MustCompile(`(?i)sending domain \[([^\]\s]+)\]`),
		regexp.MustCompile(`(?i)email from (\S+\.[A-Za-z]{2,}) is not accepted`),
		regexp.MustCompile(`(?i)administrator of (\S+\.[A-Za-z]{2,}) domain`),
		regexp.MustCompile(`(?i)not allowed to send as (?:\S+@)([A-Za-z0-9.-]+\.[A-Za-z]{2,})`),
	}
)

// domainInText finds the sender domain a reply text names.
func domainInText(s string) string {
	for _, re := range textDomainRE {
		if m := re.FindStringSubmatch(s); m != nil {
			return strings.ToLower(strings.TrimSuffix(m[1], "."))
		}
	}
	return ""
}

// stripComments removes RFC 5322 comments (nested parentheses, outside
// quoted strings) from v. comments[i] holds the comments of the i-th
// ";"-separated segment of the result.
func stripComments(v string) (string, map[int][]string) {
	comments := map[int][]string{}
	var out, cur strings.Builder
	depth, seg := 0, 0
	quoted, escaped := false, false
	for _, r := range v {
		switch {
		case escaped:
			escaped = false
			if depth > 0 {
				cur.WriteRune(r)
			} else {
				out.WriteRune(r)
			}
			continue
		case r == '\\':
			escaped = true
			if depth == 0 {
				out.WriteRune(r)
			}
			continue
		case depth == 0 && r == '"':
			quoted = !quoted
		case !quoted && r == '(':
			if depth > 0 {
				cur.WriteRune(r)
			}
			depth++
			continue
		case !quoted && depth > 0 && r == ')':
			depth--
			if depth == 0 {
				if c := strings.Join(strings.Fields(cur.String()), " "); c != "" {
					comments[seg] = append(comments[seg], c)
				}
				cur.Reset()
				out.WriteRune(' ')
			} else {
				cur.WriteRune(r)
			}
			continue
		case depth == 0 && !quoted && r == ';':
			seg++
		}
		if depth > 0 {
			cur.WriteRune(r)
		} else {
			out.WriteRune(r)
		}
	}
	return out.String(), comments
}

// splitSegments splits at the ";" outside quoted strings.
func splitSegments(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ';' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// hideQuotedSemicolons turns the ";" inside quoted strings into ",".
func hideQuotedSemicolons(s string) string {
	b := []byte(s)
	quoted := false
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ';' && quoted:
			b[i] = ','
		}
	}
	return string(b)
}

// looksLikeResult reports whether a segment is "method=result ...".
func looksLikeResult(seg string) bool {
	f := firstField(seg)
	k, _, ok := strings.Cut(f, "=")
	return ok && k != "" && !strings.ContainsAny(k, ".@")
}

// params reads key=value properties separated by white space or ";"
// (values may be quoted strings), lower-casing keys.
func params(s string) map[string]string {
	m := map[string]string{}
	var fields []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			continue
		case !quoted && (r == ';' || r == ' ' || r == '\t'):
			fields = append(fields, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	fields = append(fields, cur.String())
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok && k != "" {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

func firstField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// domainOf returns the domain of "user@domain", "@domain" or "domain".
func domainOf(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>\"")
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if !strings.Contains(s, ".") || strings.ContainsAny(s, " ()[]") {
		return ""
	}
	return s
}

// addrDomain returns the domain of the first address in a header value.
func addrDomain(v string) string {
	if m := addrRE.FindStringSubmatch(v); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// isDaemon reports whether an address is a bounce's reporting system.
func isDaemon(v string) bool {
	v = strings.ToLower(v)
	for _, w := range []string{"mailer-daemon", "postmaster@", "mail delivery", "microsoftexchange"} {
		if strings.Contains(v, w) {
			return true
		}
	}
	return false
}

var ipRE = regexp.MustCompile(`(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7}`)

// ipIn returns the first IP address in s ("sender IP is 1.1.1.1",
// "designates 1.1.1.1 as permitted sender").
func ipIn(s string) string {
	for _, c := range ipRE.FindAllString(s, -1) {
		if isAddr(c) {
			return c
		}
	}
	return ""
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}
