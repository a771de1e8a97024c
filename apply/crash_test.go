package apply

import (
	"bytes"
	"fmt"
	"testing"
)

type crash struct{ after string }

// TestApplyCrashLeavesOldOrNew stops a run after each of its writes (as a
// crash or kill -9 would) and checks that every file is wholly old or
// wholly new and that postfix check still passes. Not parallel: it sets
// the afterStep hook.
func TestApplyCrashLeavesOldOrNew(t *testing.T) {
	// Count the steps of a full run first.
	probe := newEnv(t, "smarthost-some", "")
	var steps []string
	afterStep = func(p string) { steps = append(steps, p) }
	probe.mustApply(t)
	afterStep = nil
	if len(steps) < 5 {
		t.Fatalf("only %d steps: %v", len(steps), steps)
	}
	for _, n := range []int{1, len(steps) / 2, len(steps) - 2, len(steps) - 1} {
		t.Run(fmt.Sprintf("after step %d of %d", n, len(steps)), func(t *testing.T) {
			e := newEnv(t, "smarthost-some", "")
			p, err := newPlan(t.Context(), withDefaults(e.opts(&bytes.Buffer{})))
			if err != nil {
				t.Fatal(err)
			}
			p.changedFiles()
			olds, news := p.olds, p.news
			count := 0
			afterStep = func(path string) {
				count++
				if count == n {
					panic(crash{path})
				}
			}
			defer func() { afterStep = nil }()
			func() {
				defer func() {
					r := recover()
					if _, ok := r.(crash); !ok {
						t.Fatalf("the run was not stopped: %v", r)
					}
				}()
				e.mustApply(t)
			}()
			afterStep = nil
			for path, old := range olds {
				cur, err := readState(path)
				if err != nil {
					t.Fatal(err)
				}
				want, ok := news[path]
				if cur.same(old) || ok && cur.same(want) || !ok && cur.Exists {
					continue // old, new, or a postmap'ed .db (whole, renamed by postmap)
				}
				t.Errorf("%s is neither the old nor the new file", path)
			}
			if out, err := e.pf.Check(); err != nil {
				t.Errorf("postfix check after a crash at step %d: %v\n%s", n, err, out)
			}
			// The backup made before the crash rolls everything back.
			if _, out, err := e.rollback(t, ""); err != nil {
				t.Errorf("rollback after the crash: %v\n%s", err, out)
			}
			for path, old := range olds {
				if cur, _ := readState(path); !cur.same(old) {
					t.Errorf("%s not restored by rollback", path)
				}
			}
		})
	}
}
