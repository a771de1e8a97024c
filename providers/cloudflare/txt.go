package cloudflare

import (
	"strings"

	"github.com/sendready/sendready/records"
)

// txtContent formats a TXT value as the content Cloudflare's API documents
// for TXT records: the value split into character-strings of at most 255
// bytes, each in double quotes, separated by a space.
func txtContent(value string) string {
	return records.QuoteTXT(records.SplitTXT(value))
}

// txtValue returns the value a TXT record's content holds. Cloudflare
// returns the content either as quoted character-strings
// (`"v=DKIM1; k=rsa; p=MIIB…" "…"`), which are unquoted, unescaped and
// joined, or as plain text, which is the value itself. Content that starts
// with a quote but is not a clean list of quoted strings is taken as plain
// text.
func txtValue(content string) string {
	s := strings.TrimSpace(content)
	if !strings.HasPrefix(s, `"`) {
		return content
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ', '\t':
			i++
			continue
		case '"':
			i++
		default:
			return content // text between the quoted strings
		}
		closed := false
		for i < len(s) && !closed {
			switch c := s[i]; {
			case c == '"':
				closed = true
				i++
			case c == '\\' && i+1 < len(s):
				if n, ok := decimalEscape(s[i+1:]); ok {
					b.WriteByte(n)
					i += 4
					continue
				}
				b.WriteByte(s[i+1])
				i += 2
			default:
				b.WriteByte(c)
				i++
			}
		}
		if !closed {
			return content
		}
	}
	return b.String()
}

// decimalEscape reads the DDD of a \DDD escape (RFC 1035 §5.1) at the
// start of s.
func decimalEscape(s string) (byte, bool) {
	if len(s) < 3 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s[:3]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 255 {
		return 0, false
	}
	return byte(n), true
}
