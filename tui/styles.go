package tui

import (
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"
)

// styles are the wizard's own; without colour they only set bold.
type styles struct {
	title, dim, bad, warn, good, key lipgloss.Style
	theme                            huh.Theme
}

func newStyles(color bool) styles {
	s := styles{
		title: lipgloss.NewStyle().Bold(true),
		dim:   lipgloss.NewStyle(),
		bad:   lipgloss.NewStyle().Bold(true),
		warn:  lipgloss.NewStyle(),
		good:  lipgloss.NewStyle(),
		key:   lipgloss.NewStyle().Bold(true),
		theme: huh.ThemeFunc(huh.ThemeBase),
	}
	if color {
		s.title = s.title.Foreground(lipgloss.Color("212"))
		s.dim = s.dim.Foreground(lipgloss.Color("244"))
		s.bad = s.bad.Foreground(lipgloss.Color("196"))
		s.warn = s.warn.Foreground(lipgloss.Color("214"))
		s.good = s.good.Foreground(lipgloss.Color("42"))
		s.theme = huh.ThemeFunc(huh.ThemeCharm)
	}
	return s
}
