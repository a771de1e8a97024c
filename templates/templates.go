// Package templates holds the text/template files the generators render.
// Each area has its own directory: postfix/, opendkim/, office365/, bundle/.
package templates

import "embed"

// FS holds every template, by path (for example "postfix/main.cf.tmpl").
//
//go:embed */*.tmpl
var FS embed.FS
