package apply

import (
	"fmt"
	"strings"
)

// unifiedDiff returns a unified diff (3 lines of context) from old to new,
// with the given header names; "" when they are equal. A missing side is
// named /dev/null by the caller.
func unifiedDiff(oldName, newName string, old, new []byte) string {
	if string(old) == string(new) {
		return ""
	}
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffOps(a, b)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	const ctx = 3
	// Walk the edit script, grouping changes whose contexts overlap.
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j
			} else if j-end > 2*ctx {
				break
			}
		}
		stop := min(end+ctx+1, len(ops))
		var oa, ob, na, nb int
		oa, ob = ops[start].ai+1, ops[start].bi+1
		for _, o := range ops[start:stop] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		if na == 0 {
			oa--
		}
		if nb == 0 {
			ob--
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", oa, na, ob, nb)
		for _, o := range ops[start:stop] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.line)
			sb.WriteByte('\n')
			if o.noEOL {
				sb.WriteString("\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return sb.String()
}

type line struct {
	text  string
	noEOL bool
}

func splitLines(s string) []line {
	if s == "" {
		return nil
	}
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]line, len(parts))
	for i, p := range parts {
		t, ok := strings.CutSuffix(p, "\n")
		out[i] = line{text: t, noEOL: !ok}
	}
	return out
}

type op struct {
	kind   byte // ' ', '-', '+'
	line   string
	noEOL  bool
	ai, bi int // positions in a and b before this op
}

// diffOps is a longest-common-subsequence edit script. Inputs too large
// for the table are shown as a whole replacement.
func diffOps(a, b []line) []op {
	n, m := len(a), len(b)
	var ops []op
	if n*m > 4_000_000 {
		for i, l := range a {
			ops = append(ops, op{'-', l.text, l.noEOL, i, 0})
		}
		for j, l := range b {
			ops = append(ops, op{'+', l.text, l.noEOL, n, j})
		}
		return ops
	}
	// lcs[i][j] = LCS length of a[i:], b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, op{' ', a[i].text, a[i].noEOL, i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i].text, a[i].noEOL, i, j})
			i++
		default:
			ops = append(ops, op{'+', b[j].text, b[j].noEOL, i, j})
			j++
		}
	}
	return ops
}
