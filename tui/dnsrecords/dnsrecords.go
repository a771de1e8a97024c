// Package dnsrecords is the wizard's "publish these records" screen: every
// record in the form the chosen DNS provider needs, scrollable, with a key
// that copies the selected record to the clipboard (OSC 52, which works over
// SSH).
package dnsrecords

import (
	tea "charm.land/bubbletea/v2"

	"github.com/sendready/sendready/records"
)

// Model is the records screen.
type Model struct {
	recs     []records.Record
	provider string
}

// New returns the screen for recs (as in dns/records.json, plus the PTR
// requests) and provider (manual, cloudflare, rfc2136: manual and rfc2136
// show zone-file lines; cloudflare shows one line per value, as its web UI
// wants). color is false for NO_COLOR/TERM=dumb.
func New(recs []records.Record, provider string, color bool) Model { panic("not implemented") }

// Init does nothing.
func (m Model) Init() tea.Cmd { return nil }

// Update handles window size and keys: up/down/pgup/pgdown/home/end scroll
// and select, c copies the selected record's value (tea.SetClipboard / OSC
// 52), z copies the whole zone fragment.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) { panic("not implemented") }

// View renders the visible part of the list, fitting the window (80×24 at
// least), with a one-line key help.
func (m Model) View() string { panic("not implemented") }

// Plain lists every record as plain lines (accessible mode, TERM=dumb).
func Plain(recs []records.Record, provider string) string { panic("not implemented") }
