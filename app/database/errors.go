package database

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

func pgErrorIs(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == code && (constraint == "" || pgErr.ConstraintName == constraint)
}
