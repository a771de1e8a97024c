package records

import (
	"fmt"
	"strings"
)

// tag is one tag=value pair of a DKIM or DMARC tag-list.
type tag struct {
	name, value string
}

// parseTagList splits a tag-list (RFC 6376 §3.2, RFC 7489 §6.4) into its
// pairs, in order, with surrounding whitespace trimmed. Empty tag-specs
// (";;", a trailing ";") are skipped. A name that occurs twice is an error;
// names compare case-insensitively when foldNames is set (DMARC), exactly
// otherwise (DKIM).
func parseTagList(s string, foldNames bool) ([]tag, error) {
	var tags []tag
	seen := map[string]bool{}
	for _, spec := range strings.Split(s, ";") {
		spec = strings.TrimSpace(spec)
		if spec == "" {
			continue
		}
		name, value, ok := strings.Cut(spec, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%q is not tag=value", spec)
		}
		if !isTagName(name) {
			return nil, fmt.Errorf("%q is not a valid tag name", name)
		}
		if foldNames {
			name = strings.ToLower(name)
		}
		if seen[name] {
			return nil, fmt.Errorf("tag %s= appears more than once", name)
		}
		seen[name] = true
		value = strings.TrimSpace(value)
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < 0x21 || c > 0x7e) && c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return nil, fmt.Errorf("tag %s= holds character %q", name, c)
			}
		}
		tags = append(tags, tag{name, value})
	}
	return tags, nil
}

// isTagName checks tag-name: ALPHA *(ALPHA / DIGIT / "_").
func isTagName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := lowerASCII(s[i])
		if !(c >= 'a' && c <= 'z' || i > 0 && (isDigit(c) || c == '_')) {
			return false
		}
	}
	return true
}

// splitList splits a colon-separated tag value into its trimmed items; an
// empty value gives nil.
func splitList(v, sep string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	var out []string
	for _, item := range strings.Split(v, sep) {
		out = append(out, strings.TrimSpace(item))
	}
	return out
}

// removeSpace drops every whitespace byte (FWS inside base64).
func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
