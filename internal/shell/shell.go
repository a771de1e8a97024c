// Package shell quotes words for the command lines sendready suggests.
package shell

import "strings"

// Quote returns s as one POSIX shell word: as it is when it holds only
// letters, digits and -_./:=@,+%, else in single quotes.
func Quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
