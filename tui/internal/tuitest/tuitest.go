// Package tuitest helps tests drive the wizard's screens with key presses.
package tuitest

import tea "charm.land/bubbletea/v2"

var named = map[string]rune{
	"up": tea.KeyUp, "down": tea.KeyDown, "home": tea.KeyHome, "end": tea.KeyEnd,
	"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
}

// Key is the key press named s: "up", "down", "home", "end", "pgup",
// "pgdown", or a printable character ("r", "j").
func Key(s string) tea.KeyPressMsg {
	if code, ok := named[s]; ok {
		return tea.KeyPressMsg{Code: code}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}
