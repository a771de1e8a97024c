// Package records is the single typed model of every DNS value sendready
// publishes or checks: SPF, DKIM and DMARC TXT values, and the resource
// records (MX, A, AAAA, TXT, CNAME, PTR) that carry them. Generators format
// with it; the DNS checker and the DNS providers parse with it. It does no
// I/O and reads no clock.
package records

import (
	"strconv"
	"strings"
)

// MaxTXTString is the longest character-string a TXT record holds (RFC 1035
// §3.3): one length byte, so 255 bytes. Longer values are split into
// several strings that readers concatenate (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
const MaxTXTString = 255

// SplitTXT splits s into character-strings of at most MaxTXTString bytes,
// in order. The empty string gives one empty character-string, as a TXT
// record needs at least one.
func SplitTXT(s string) []string {
	if s == "" {
		return []string{""}
	}
	var out []string
	for len(s) > MaxTXTString {
		out = append(out, s[:MaxTXTString])
		s = s[MaxTXTString:]
	}
	return append(out, s)
}

// QuoteTXT formats character-strings for a zone file (RFC 1035 §5.1): each
// in double quotes, separated by a space, with `"` and `\` escaped by a
// backslash and bytes outside printable ASCII written as \DDD.
func QuoteTXT(chunks []string) string {
	var b strings.Builder
	for i, c := range chunks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for j := 0; j < len(c); j++ {
			switch ch := c[j]; {
			case ch == '"' || ch == '\\':
				b.WriteByte('\\')
				b.WriteByte(ch)
			case ch < ' ' || ch > '~':
				b.WriteByte('\\')
				s := strconv.Itoa(int(ch))
				b.WriteString(strings.Repeat("0", 3-len(s)) + s)
			default:
				b.WriteByte(ch)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// unescapeTXT undoes the presentation escapes (\X and \DDD) that
// miekg/dns keeps in the strings of a parsed TXT record.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			if n, err := strconv.Atoi(s[i+1 : i+4]); err == nil && n <= 255 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
