package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// migrationLockKey is the advisory lock every portal instance takes before it migrates, so that two
// instances starting together never race. It also makes any row left in bun's own lock table by an
// instance that crashed mid-migration provably stale, so it is cleared.
const migrationLockKey = 7_215_504_031

// Migrator applies the embedded SQL migrations.
type Migrator struct {
	db         *bun.DB
	migrations *migrate.Migrations
	migrator   *migrate.Migrator
}

// NewMigrator reads the migration files in fsys.
func NewMigrator(db *bun.DB, fsys fs.FS) (*Migrator, error) {
	migrations := migrate.NewMigrations()
	if err := migrations.Discover(fsys); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	m := migrate.NewMigrator(db, migrations, migrate.WithMarkAppliedOnSuccess(true))
	return &Migrator{db: db, migrations: migrations, migrator: m}, nil
}

// withLock runs fn holding the cross-instance migration lock and bun's migration lock.
func (m *Migrator) withLock(ctx context.Context, fn func() error) (err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey); uerr != nil && err == nil {
			err = fmt.Errorf("release migration lock: %w", uerr)
		}
	}()
	if err := m.migrator.Init(ctx); err != nil {
		return fmt.Errorf("init migration tables: %w", err)
	}
	// Holding the advisory lock, any bun lock row is a leftover of a crashed instance.
	if err := m.migrator.Unlock(ctx); err != nil {
		return fmt.Errorf("clear stale migration lock: %w", err)
	}
	if err := m.migrator.Lock(ctx); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer func() {
		if uerr := m.migrator.Unlock(context.WithoutCancel(ctx)); uerr != nil && err == nil {
			err = fmt.Errorf("unlock migrations: %w", uerr)
		}
	}()
	return fn()
}

// Up applies every pending migration and returns the names applied.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string
	err := m.withLock(ctx, func() error {
		group, err := m.migrator.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("apply migrations: %w", err)
		}
		for _, mig := range group.Migrations {
			names = append(names, mig.Name)
		}
		return nil
	})
	return names, err
}

// Down rolls back the most recently applied group of migrations and returns the names rolled back.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var names []string
	err := m.withLock(ctx, func() error {
		group, err := m.migrator.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("roll back migrations: %w", err)
		}
		for _, mig := range group.Migrations {
			names = append(names, mig.Name)
		}
		return nil
	})
	return names, err
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Comment string
	Applied bool
	GroupID int64
}

// Status lists every known migration, oldest first.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	if err := m.migrator.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migration tables: %w", err)
	}
	ms, err := m.migrator.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mig := range ms {
		out = append(out, MigrationStatus{Name: mig.Name, Comment: mig.Comment, Applied: mig.IsApplied(), GroupID: mig.GroupID})
	}
	return out, nil
}

// Pending counts the migrations not yet applied. It reads without creating bun's tables, so a
// read-only readiness probe can call it.
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	var applied []string
	err := m.db.NewSelect().Table("bun_migrations").Column("name").Scan(ctx, &applied)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		if pgErrorIs(err, "42P01", "") { // undefined_table: nothing applied yet
			applied = nil
		} else {
			return 0, fmt.Errorf("read applied migrations: %w", err)
		}
	}
	done := make(map[string]bool, len(applied))
	for _, n := range applied {
		done[n] = true
	}
	pending := 0
	for _, mig := range m.migrations.Sorted() {
		if !done[mig.Name] {
			pending++
		}
	}
	return pending, nil
}
