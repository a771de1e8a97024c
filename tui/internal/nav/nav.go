// Package nav holds what the wizard's list screens share: the default
// window size and the keys that move a selection.
package nav

// The window size assumed until the first tea.WindowSizeMsg.
const (
	DefaultWidth  = 80
	DefaultHeight = 24
)

// Size returns w×h, or the default size for a dimension not known yet.
func Size(w, h int) (int, int) {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	return w, h
}

// Move applies a selection key (up/k, down/j, home/g, end/G) to sel in a
// list of n items. It reports false for any other key.
func Move(key string, sel, n int) (int, bool) {
	switch key {
	case "up", "k":
		sel--
	case "down", "j":
		sel++
	case "home", "g":
		sel = 0
	case "end", "G":
		sel = n - 1
	default:
		return sel, false
	}
	return max(0, min(sel, n-1)), true
}
