// Package public holds the portal's static files (CSS, JavaScript, images), embedded into the binary.
// public/vendor is filled by `make assets` from the nhsuk-frontend npm package and is not committed.
package public

import "embed"

// FS holds the static files.
//
//go:embed *
var FS embed.FS
