package explain

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sample is one line of testdata/samples.txt.
type sample struct {
	file     string
	codes    []string
	fixWords []string
	domain   string
}

func readSamples(t *testing.T) []sample {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "samples.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("samples.txt: %q: want 4 tab-separated columns", line)
		}
		s := sample{file: cols[0], domain: cols[3]}
		if cols[1] != "-" {
			s.codes = strings.Split(cols[1], ",")
		}
		if cols[2] != "-" {
			s.fixWords = strings.Split(cols[2], ";")
		}
		if s.domain == "-" {
			s.domain = ""
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExplainSamples explains every real-world sample of testdata and compares
// the finding codes (in order), the key words of the fixes and the author
// domain with samples.txt.
func TestExplainSamples(t *testing.T) {
	samples := readSamples(t)
	if len(samples) < 15 {
		t.Fatalf("only %d samples", len(samples))
	}
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", s.file))
			if err != nil {
				t.Fatal(err)
			}
			res := Explain(data)
			var codes []string
			var fixes strings.Builder
			for _, f := range res.Findings {
				codes = append(codes, f.Code)
				fixes.WriteString(f.Fix + "\n" + f.Verify + "\n")
				if f.Title == "" || f.Explanation == "" || f.Fix == "" {
					t.Errorf("%s: empty title, explanation or fix: %+v", f.Code, f)
				}
			}
			if !slices.Equal(codes, s.codes) {
				t.Errorf("codes %q, want %q\nfacts %+v\nfindings %+v", codes, s.codes, res.Facts, res.Findings)
			}
			for _, w := range s.fixWords {
				if w == "+all" {
					if strings.Contains(fixes.String(), "\"v=spf1 +all") || strings.Contains(fixes.String(), " +all\"") {
						t.Errorf("a fix suggests +all:\n%s", fixes.String())
					}
					continue
				}
				if !strings.Contains(strings.ToLower(fixes.String()), strings.ToLower(w)) {
					t.Errorf("fixes lack %q:\n%s", w, fixes.String())
				}
			}
			if res.Facts.FromDomain != s.domain {
				t.Errorf("author domain %q, want %q", res.Facts.FromDomain, s.domain)
			}
		})
	}
}
