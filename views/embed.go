// Package views holds the portal's html/template files, embedded into the binary: layouts/ (the page
// frame), partials/ (the NHS design system components) and one directory of pages per resource, each
// page rendered by the name "<dir>/<file without .html>".
package views

import "embed"

// FS holds every template. A new directory of pages is picked up by the pattern below.
//
//go:embed */*.html
var FS embed.FS
