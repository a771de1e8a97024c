package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sendready/sendready/dnscheck"
)

// symbols keep the table readable without colour (NO_COLOR, TERM=dumb, pipes).
var symbols = map[dnscheck.Status]string{
	dnscheck.StatusPass:    "✓",
	dnscheck.StatusWarn:    "!",
	dnscheck.StatusFail:    "✗",
	dnscheck.StatusPending: "…",
	dnscheck.StatusSkipped: "-",
}

var colours = map[dnscheck.Status]string{
	dnscheck.StatusPass:    "\x1b[32m",
	dnscheck.StatusWarn:    "\x1b[33m",
	dnscheck.StatusFail:    "\x1b[31m",
	dnscheck.StatusPending: "\x1b[36m",
	dnscheck.StatusSkipped: "\x1b[2m",
}

// useColour reports whether w is a terminal that wants colour.
func useColour(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// printReport writes one table per domain: status, check, detail, and the
// fix under every row that is not passing.
func printReport(s Streams, rep dnscheck.Report) {
	colour := useColour(s.Out)
	domain := ""
	for _, r := range rep.Checks {
		if r.Domain != domain {
			if domain != "" {
				fmt.Fprintln(s.Out)
			}
			domain = r.Domain
			fmt.Fprintln(s.Out, domain)
		}
		status := fmt.Sprintf("%s %-7s", symbols[r.Status], r.Status)
		if colour {
			status = colours[r.Status] + status + "\x1b[0m"
		}
		id := r.ID
		switch {
		case r.Selector != "":
			id += " " + r.Selector
		case r.IP != "":
			id += " " + r.IP
		}
		detail := r.Detail
		if r.ETASeconds != nil && !strings.Contains(detail, "≈") {
			detail += fmt.Sprintf(" (clears in ≈ %s)", fmtSeconds(*r.ETASeconds))
		}
		fmt.Fprintf(s.Out, "  %s  %-18s %s\n", status, id, detail)
		if r.Fix != "" && r.Status != dnscheck.StatusPass && r.Status != dnscheck.StatusSkipped {
			for _, line := range strings.Split(r.Fix, "\n") {
				fmt.Fprintf(s.Out, "  %9s  %-18s fix: %s\n", "", "", line)
			}
		}
	}
	fmt.Fprintf(s.Out, "\n%s\n", summary(rep))
}

// summary is one line: "all 9 checks pass" or "2 failed, 1 pending, 6 pass".
func summary(rep dnscheck.Report) string {
	n := map[dnscheck.Status]int{}
	for _, r := range rep.Checks {
		n[r.Status]++
	}
	if n[dnscheck.StatusFail]+n[dnscheck.StatusPending]+n[dnscheck.StatusWarn] == 0 {
		return fmt.Sprintf("all %d checks pass", n[dnscheck.StatusPass])
	}
	var parts []string
	for _, st := range []dnscheck.Status{dnscheck.StatusFail, dnscheck.StatusPending, dnscheck.StatusWarn, dnscheck.StatusPass, dnscheck.StatusSkipped} {
		if n[st] > 0 {
			word := string(st)
			if st == dnscheck.StatusFail {
				word = "failed"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n[st], word))
		}
	}
	return strings.Join(parts, ", ")
}

func fmtSeconds(sec int) string {
	if sec < 60 {
		return fmt.Sprintf("%ds", sec)
	}
	if sec < 3600 {
		return fmt.Sprintf("%dm%02ds", sec/60, sec%60)
	}
	return fmt.Sprintf("%dh%02dm", sec/3600, (sec%3600)/60)
}
