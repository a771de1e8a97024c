package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/answers"
	"github.com/sendready/sendready/bundle"
	"github.com/sendready/sendready/detect"
	"github.com/sendready/sendready/dnscheck"
	"github.com/sendready/sendready/generate"
	"github.com/sendready/sendready/generators"
	"github.com/sendready/sendready/records"
)

// Messages of the Cmds: every piece of I/O comes back as one of these.
type (
	detectDoneMsg struct{ res detect.Result }
	renderDoneMsg struct {
		seq     int
		files   []generators.File
		created []string
		err     error
	}
	generateDoneMsg struct {
		out  outcome
		err  error
		conf bool // the error is a refused overwrite: f retries with Force
	}
	hangupMsg struct{}
)

// outcome is what generation leaves for the records and dashboard screens.
type outcome struct {
	res  generate.Result
	recs []records.Record
	exps []dnscheck.Expect
}

func detectCmd(ctx context.Context, sys detect.System) tea.Cmd {
	return func() tea.Msg { return detectDoneMsg{res: detect.Detect(ctx, sys)} }
}

// renderCmd lists the bundle's files without writing (keys are made in
// memory when missing).
func renderCmd(seq int, opts generate.Options) tea.Cmd {
	return func() tea.Msg {
		_, files, created, err := generate.Render(opts)
		return renderDoneMsg{seq: seq, files: files, created: created, err: err}
	}
}

// generateCmd writes the bundle and the answers, then loads what the next
// screens show.
func generateCmd(gopts generate.Options, answersPath string) tea.Cmd {
	return func() tea.Msg {
		out, err := runGenerate(gopts, answersPath)
		return generateDoneMsg{out: out, err: err, conf: isConflict(err)}
	}
}

func runGenerate(gopts generate.Options, answersPath string) (outcome, error) {
	res, err := generate.Run(gopts)
	if err != nil {
		return outcome{}, err
	}
	if err := saveAnswers(answersPath, gopts.Answers); err != nil {
		return outcome{}, err
	}
	recs, err := bundleRecords(gopts.Out, gopts.Answers)
	if err != nil {
		return outcome{}, err
	}
	keys, err := generate.PublicKeys(gopts.Answers, gopts.Out)
	if err != nil {
		return outcome{}, err
	}
	return outcome{res: res, recs: recs, exps: dnscheck.FromAnswers(gopts.Answers, keys)}, nil
}

// saveAnswers writes a to path through a temporary file and a rename, so
// a crash leaves the old file or the new one. The password is not part of
// the answers.
func saveAnswers(path string, a *answers.Answers) error {
	if path == "" {
		return nil
	}
	data, err := answers.Marshal(a)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".sendready-answers-*")
	if err != nil {
		return fmt.Errorf("saving answers: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("saving answers to %s: %w", path, err)
	}
	return nil
}

// bundleRecords reads dns/records.json from the bundle and adds the PTR
// requests (which records.json leaves out: the address owner sets them).
func bundleRecords(dir string, a *answers.Answers) ([]records.Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, "dns", "records.json"))
	if err != nil {
		return nil, fmt.Errorf("reading the records: %w", err)
	}
	var recs []records.Record
	if err := json.Unmarshal(data, &recs); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "dns", "records.json"), err)
	}
	ttl := uint32(a.DNS.TTL)
	for _, ip := range append(a.IPv4Addrs(), a.IPv6Addrs()...) {
		recs = append(recs, ptrRecord(ip, a.Server.Hostname, ttl))
	}
	return recs, nil
}

func ptrRecord(ip netip.Addr, host string, ttl uint32) records.Record {
	return records.Record{
		Zone: records.ReverseZone(ip), Name: records.ReverseName(ip), Type: records.TypePTR, TTL: ttl, Value: host + ".",
		Comment: fmt.Sprintf("Reverse DNS of %s: ask the owner of the address (your hosting provider) to set it to %s.", ip, host),
	}
}

// isConflict reports a refused overwrite that Force would resolve.
func isConflict(err error) bool {
	var ce *bundle.ConflictError
	return errors.As(err, &ce) && !ce.Force
}
