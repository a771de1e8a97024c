package tui

import (
	"strings"

	"charm.land/huh/v2"
)

// The field helpers build every question the same way: a title, a one-line
// help, the bound draft field, and a named validator. In accessible mode
// huh prints only the title, so the help and the default go into it, and
// an empty line keeps the default ("-" empties an optional field).

// input is a text question.
func (d *draft) input(title, help string, val *string, valid func(string) error) *huh.Input {
	in := huh.NewInput().Title(title).Description(help).Value(val)
	if !d.accessible {
		return in.Validate(valid)
	}
	t := title + " — " + help
	if *val != "" {
		t += " [" + *val + "]"
	}
	return in.Title(t).Validate(func(s string) error {
		s = strings.TrimSpace(s)
		switch s {
		case "":
			return valid(*val)
		case "-":
			return valid("")
		}
		return valid(s)
	})
}

// optional is a text question that may stay empty.
func (d *draft) optional(title, help string, val *string, valid func(string) error) *huh.Input {
	if d.accessible {
		help += " (- for none)"
		d.clearable = append(d.clearable, val)
	}
	return d.input(title, help, val, valid)
}

// secret is the relay password: masked on a terminal. In accessible mode
// huh reads it without echo from a terminal; from a pipe (scripts, tests)
// it is read as a line, which no terminal echoes.
func (d *draft) secret(title, help string, val *string) *huh.Input {
	in := d.optional(title, help, val, func(string) error { return nil })
	if !d.accessible || d.tty {
		in.EchoMode(huh.EchoModePassword)
	}
	if d.accessible && *val != "" {
		in.Title(title + " — " + help + " [keep the one typed before]")
	}
	return in
}

// choose is a choice among options.
func (d *draft) choose(title, help string, val *string, opts ...huh.Option[string]) *huh.Select[string] {
	s := huh.NewSelect[string]().Title(title).Description(help).Value(val).Options(opts...)
	if d.accessible {
		cur := *val
		for _, o := range opts {
			if o.Value == *val {
				cur = o.Key
			}
		}
		s.Title(title + " — " + help + " [Enter keeps: " + cur + "]")
	}
	return s
}

// note is text shown on a page (a warning, what a choice changes).
func note(title, body string) *huh.Note {
	return huh.NewNote().Title(title).Description(body)
}

// clearDashes empties the optional fields answered "-" in accessible mode.
func (d *draft) clearDashes() {
	for _, p := range d.clearable {
		if strings.TrimSpace(*p) == "-" {
			*p = ""
		}
	}
	d.clearable = nil
}
