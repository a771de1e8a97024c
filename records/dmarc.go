package records

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DMARC errors.
var (
	// ErrNotDMARC means the value does not start with "v=DMARC1".
	ErrNotDMARC = errors.New("records: not a DMARC record (does not start with v=DMARC1)")
	// ErrDMARCSyntax means a v=DMARC1 record breaks RFC 7489 §6.3 so that
	// receivers ignore it.
	ErrDMARCSyntax = errors.New("records: invalid DMARC record")
)

// DMARC policies (p=, sp=).
const (
	PolicyNone       = "none"
	PolicyQuarantine = "quarantine"
	PolicyReject     = "reject"
)

// DMARC alignment modes (adkim=, aspf=).
const (
	AlignRelaxed = "r"
	AlignStrict  = "s"
)

// DMARC is a DMARC policy record, published as TXT at _dmarc.<domain>
// (RFC 7489 §6.3). Fields left at their zero value mean the tag's default,
// and ParseDMARC stores a tag that spells out its default as the zero
// value, so String writes the shortest equivalent record.
type DMARC struct {
	// Policy is p=: none, quarantine or reject. Required.
	Policy string
	// SubdomainPolicy is sp=; "" means as Policy.
	SubdomainPolicy string
	// Pct is pct=, 0-100: the share of failing mail the policy applies
	// to; nil means 100.
	Pct *int
	// RUA is rua=: where aggregate reports go, mailto: URIs with an
	// optional "!size" limit.
	RUA []string
	// RUF is ruf=: where failure reports go, mailto: URIs.
	RUF []string
	// ADKIM is adkim=: DKIM alignment, AlignStrict or "" (relaxed).
	ADKIM string
	// ASPF is aspf=: SPF alignment, AlignStrict or "" (relaxed).
	ASPF string
	// FailureOptions is fo=: colon-separated 0, 1, d, s; "" means "0".
	FailureOptions string
	// ReportFormat is rf=: failure report formats; "" means "afrf".
	ReportFormat string
	// ReportInterval is ri=, seconds between aggregate reports; 0 means
	// the default 86400.
	ReportInterval uint32
}

// String formats the record in canonical order: v; p; sp; pct; rua; ruf;
// adkim; aspf; fo; rf; ri, leaving out tags at their default.
func (d DMARC) String() string {
	parts := []string{"v=DMARC1", "p=" + d.Policy}
	add := func(name, v string) {
		if v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	add("sp", d.SubdomainPolicy)
	if d.Pct != nil && *d.Pct != 100 {
		add("pct", strconv.Itoa(*d.Pct))
	}
	add("rua", strings.Join(d.RUA, ","))
	add("ruf", strings.Join(d.RUF, ","))
	if d.ADKIM != AlignRelaxed {
		add("adkim", d.ADKIM)
	}
	if d.ASPF != AlignRelaxed {
		add("aspf", d.ASPF)
	}
	if d.FailureOptions != "0" {
		add("fo", d.FailureOptions)
	}
	if d.ReportFormat != "afrf" {
		add("rf", d.ReportFormat)
	}
	if d.ReportInterval != 0 && d.ReportInterval != 86400 {
		add("ri", strconv.FormatUint(uint64(d.ReportInterval), 10))
	}
	return strings.Join(parts, "; ")
}

// dmarcURI is DMARC-URI (RFC 7489 §6.4) restricted to mailto:, with the
// optional size limit.
var dmarcURI = regexp.MustCompile(`^(?i:mailto):([^@\s,!]+)@([A-Za-z0-9._\-]+\.[A-Za-z0-9\-]+)(![0-9]+[kmgtKMGT]?)?$`)

// ParseDMARC parses a DMARC record. v=DMARC1 must come first (else
// ErrNotDMARC), and p= must be present and valid; other errors wrap
// ErrDMARCSyntax and name the tag. The warnings list what receivers
// accept but the RFC advises against: unknown tags (ignored), p= not
// second.
func ParseDMARC(s string) (DMARC, []string, error) {
	bad := func(format string, args ...any) (DMARC, []string, error) {
		return DMARC{}, nil, fmt.Errorf("%w: %s", ErrDMARCSyntax, fmt.Sprintf(format, args...))
	}
	tags, err := parseTagList(s, true)
	if err != nil {
		if strings.HasPrefix(strings.TrimSpace(s), "v=DMARC1") {
			return bad("%v", err)
		}
		return DMARC{}, nil, ErrNotDMARC
	}
	if len(tags) == 0 || tags[0].name != "v" || tags[0].value != "DMARC1" {
		return DMARC{}, nil, ErrNotDMARC
	}
	var d DMARC
	var warnings []string
	hasP := false
	for i, t := range tags[1:] {
		v := t.value
		switch t.name {
		case "v":
			return bad("v= appears more than once")
		case "p", "sp":
			switch p := strings.ToLower(v); p {
			case PolicyNone, PolicyQuarantine, PolicyReject:
				if t.name == "p" {
					d.Policy, hasP = p, true
					if i != 0 {
						warnings = append(warnings, "p= should come right after v=DMARC1 (RFC 7489 §6.3)")
					}
				} else {
					d.SubdomainPolicy = p
				}
			default:
				return bad("%s=%s: the policy must be none, quarantine or reject", t.name, v)
			}
		case "pct":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 || v != strconv.Itoa(n) {
				return bad("pct=%s: must be a whole number from 0 to 100", v)
			}
			if n != 100 {
				d.Pct = &n
			}
		case "rua", "ruf":
			uris := splitList(v, ",")
			if len(uris) == 0 {
				return bad("%s= is empty: give mailto: addresses or leave the tag out", t.name)
			}
			for _, u := range uris {
				if !dmarcURI.MatchString(u) {
					return bad("%s=%s: %q is not a mailto: address (mailto:dmarc@example.com)", t.name, v, u)
				}
			}
			if t.name == "rua" {
				d.RUA = uris
			} else {
				d.RUF = uris
			}
		case "adkim", "aspf":
			a := strings.ToLower(v)
			if a != AlignRelaxed && a != AlignStrict {
				return bad("%s=%s: alignment must be r (relaxed) or s (strict)", t.name, v)
			}
			if a == AlignRelaxed {
				a = ""
			}
			if t.name == "adkim" {
				d.ADKIM = a
			} else {
				d.ASPF = a
			}
		case "fo":
			opts := splitList(strings.ToLower(v), ":")
			if len(opts) == 0 {
				return bad("fo= is empty")
			}
			for _, o := range opts {
				if o != "0" && o != "1" && o != "d" && o != "s" {
					return bad("fo=%s: options are 0, 1, d and s, separated by colons", v)
				}
			}
			if fo := strings.Join(opts, ":"); fo != "0" {
				d.FailureOptions = fo
			}
		case "rf":
			formats := splitList(strings.ToLower(v), ":")
			if len(formats) == 0 {
				return bad("rf= is empty")
			}
			for _, f := range formats {
				if !isTagName(f) {
					return bad("rf=%s: bad report format %q", v, f)
				}
				if f != "afrf" {
					warnings = append(warnings, fmt.Sprintf("rf=: unknown report format %q (only afrf is defined)", f))
				}
			}
			if rf := strings.Join(formats, ":"); rf != "afrf" {
				d.ReportFormat = rf
			}
		case "ri":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return bad("ri=%s: must be a number of seconds", v)
			}
			if n != 86400 {
				d.ReportInterval = uint32(n)
			}
		default:
			warnings = append(warnings, fmt.Sprintf("unknown tag %s= is ignored", t.name))
		}
	}
	if !hasP {
		return bad("no p= tag: add p=none, p=quarantine or p=reject right after v=DMARC1")
	}
	return d, warnings, nil
}

// MailtoAddress returns the address of a DMARC report URI
// ("mailto:dmarc@example.com!10m" gives "dmarc@example.com"), or "" when
// uri is not a mailto: URI.
func MailtoAddress(uri string) string {
	m := dmarcURI.FindStringSubmatch(strings.TrimSpace(uri))
	if m == nil {
		return ""
	}
	return m[1] + "@" + m[2]
}
