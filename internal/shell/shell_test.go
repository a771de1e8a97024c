package shell

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"answers.yaml":        "answers.yaml",
		"/srv/my bundle":      "'/srv/my bundle'",
		"it's":                `'it'\''s'`,
		"":                    "''",
		"$HOME/x":             "'$HOME/x'",
		"./sendready-bundle/": "./sendready-bundle/",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
