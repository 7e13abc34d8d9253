// Package migrations holds the portal's SQL migrations, embedded into the binary.
// Files are named <UTC timestamp>_<lower_snake>.tx.up.sql with a matching .tx.down.sql;
// they are never edited after they land.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
