package nav

import "testing"

func TestMove(t *testing.T) {
	for _, tt := range []struct {
		key      string
		sel, n   int
		want     int
		consumed bool
	}{
		{"down", 0, 3, 1, true}, {"j", 2, 3, 2, true}, {"up", 0, 3, 0, true}, {"k", 2, 3, 1, true},
		{"home", 2, 3, 0, true}, {"G", 0, 3, 2, true}, {"end", 0, 0, 0, true}, {"x", 1, 3, 1, false},
	} {
		got, ok := Move(tt.key, tt.sel, tt.n)
		if got != tt.want || ok != tt.consumed {
			t.Errorf("Move(%q, %d, %d) = %d, %v; want %d, %v", tt.key, tt.sel, tt.n, got, ok, tt.want, tt.consumed)
		}
	}
	if w, h := Size(0, 30); w != 80 || h != 30 {
		t.Errorf("Size = %d×%d", w, h)
	}
}
