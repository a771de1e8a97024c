package apply

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"github.com/sendready/sendready/generators/postfix"
)

// parseSettings reads main.cf.snippet: "key = value" lines between
// comments, in order.
func parseSettings(data []byte) ([]postfix.Setting, error) {
	var out []postfix.Setting
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s line %d: %q is not \"key = value\"", postfix.MainCFPath, n, line)
		}
		out = append(out, postfix.Setting{Key: k, Value: v})
	}
	return out, sc.Err()
}

// parseServices reads master.cf.snippet: an entry starts in column one,
// continuation lines start with white space.
func parseServices(data []byte) ([]postfix.Service, error) {
	var entries [][]string
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(entries) == 0 {
				return nil, fmt.Errorf("%s line %d: continuation line without an entry", postfix.MasterCFPath, i+1)
			}
			entries[len(entries)-1] = append(entries[len(entries)-1], strings.Fields(t)...)
			continue
		}
		entries = append(entries, strings.Fields(t))
	}
	var out []postfix.Service
	for _, f := range entries {
		if len(f) < 8 {
			return nil, fmt.Errorf("%s: entry %q has fewer than 8 columns", postfix.MasterCFPath, strings.Join(f, " "))
		}
		out = append(out, postfix.Service{Name: f[0], Type: f[1], Private: f[2], Unpriv: f[3], Chroot: f[4],
			Wakeup: f[5], Maxproc: f[6], Command: f[7], Args: f[8:]})
	}
	return out, nil
}

// parsePostconfN reads "postconf -n" output.
func parsePostconfN(out []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, " = "); ok {
			m[k] = v
		} else if k, ok := strings.CutSuffix(line, " ="); ok {
			m[k] = ""
		}
	}
	return m
}

// tokens splits a Postfix list (commas and white space) keeping
// "{ ... }" groups (per-milter settings) whole.
func tokens(v string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range v {
		switch {
		case r == '{':
			depth++
			cur.WriteRune(r)
		case r == '}':
			depth--
			cur.WriteRune(r)
		case depth == 0 && (r == ',' || r == ' ' || r == '\t' || r == '\n'):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// mergeKind says how a setting that the admin already uses is combined
// with ours.
func mergeKind(key string) string {
	switch key {
	case "smtpd_milters", "mynetworks":
		return "append"
	case "non_smtpd_milters":
		return "milters-ref"
	case "smtpd_recipient_restrictions":
		return "restrictions"
	}
	return ""
}

// mergeValue combines the admin's current value of key (explicit in
// main.cf, "" when unset) with ours. Scalars are replaced; lists keep the
// admin's items and gain ours once. The result for an already merged
// value is that value unchanged, so a second apply changes nothing.
func mergeValue(key, current, ours string, ourSettings map[string]string) string {
	cur := tokens(current)
	if len(cur) == 0 {
		return ours
	}
	switch mergeKind(key) {
	case "append":
		return appendMissing(current, cur, tokens(ours))
	case "milters-ref":
		for _, t := range cur {
			if t == "$smtpd_milters" || t == "${smtpd_milters}" || t == "$(smtpd_milters)" {
				return current
			}
		}
		want := tokens(ours)
		if slices.Contains(want, "$smtpd_milters") {
			want = tokens(ourSettings["smtpd_milters"])
		}
		return appendMissing(current, cur, want)
	case "restrictions":
		return mergeRestrictions(current, ours)
	}
	return ours
}

func appendMissing(current string, cur, want []string) string {
	added := false
	for _, w := range want {
		if !slices.Contains(cur, w) {
			cur = append(cur, w)
			added = true
		}
	}
	if !added {
		return current
	}
	return strings.Join(cur, ", ")
}

// argTaking lists restrictions that take the next token as argument.
func argTaking(t string) bool {
	if strings.HasPrefix(t, "check_") {
		return true
	}
	switch t {
	case "reject_rbl_client", "reject_rhsbl_client", "reject_rhsbl_reverse_client", "reject_rhsbl_helo",
		"reject_rhsbl_sender", "reject_rhsbl_recipient", "permit_dnswl_client", "permit_rhswl_client", "sleep":
		return true
	}
	return false
}

// units groups restriction tokens: a restriction with its argument, and
// warn_if_reject with the restriction it qualifies.
func units(v string) []string {
	tok := tokens(v)
	var out []string
	for i := 0; i < len(tok); i++ {
		u := tok[i]
		prefix := ""
		if u == "warn_if_reject" && i+1 < len(tok) {
			prefix = u + " "
			i++
			u = tok[i]
		}
		if argTaking(u) && i+1 < len(tok) {
			i++
			u += " " + tok[i]
		}
		out = append(out, prefix+u)
	}
	return out
}

// mergeRestrictions adds our restrictions that follow
// reject_unauth_destination (the SPF policy check) to the admin's list:
// right after the admin's reject_unauth_destination (or after the
// previous one of ours), else before the first permit/reject/defer that
// would end the list, else at the end. Our permit_mynetworks,
// permit_sasl_authenticated and reject_unauth_destination are not added
// to an admin's list: relay control there is the admin's (and Postfix
// applies smtpd_relay_restrictions first anyway).
func mergeRestrictions(current, ours string) string {
	cur := units(current)
	want := units(ours)
	anchor := slices.Index(want, "reject_unauth_destination")
	added := false
	for i := anchor + 1; i < len(want); i++ {
		u := want[i]
		if slices.Contains(cur, u) {
			continue
		}
		pos := -1
		for j := i - 1; j >= 0 && j >= anchor; j-- {
			if k := slices.Index(cur, want[j]); k >= 0 {
				pos = k + 1
				break
			}
		}
		if pos < 0 {
			pos = len(cur)
			for k, c := range cur {
				if c == "permit" || c == "reject" || c == "defer" {
					pos = k
					break
				}
			}
		}
		cur = slices.Insert(cur, pos, u)
		added = true
	}
	if !added {
		return current
	}
	return strings.Join(cur, ", ")
}
