package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one directory of numbered goose files per dialect. Both directories
// are kept in step: migration N does the same thing in each.
//
//go:embed migrations
var migrations embed.FS

type dialect struct {
	goose goose.Dialect
	dir   string
	// lock serialises migrations of instances that start together; nil for SQLite,
	// whose single writer connection already does.
	lock func() (lock.SessionLocker, error)
}

var (
	dialectSQLite   = dialect{goose: goose.DialectSQLite3, dir: "migrations/sqlite"}
	dialectPostgres = dialect{goose: goose.DialectPostgres, dir: "migrations/postgres",
		lock: func() (lock.SessionLocker, error) { return lock.NewPostgresSessionLocker() }}
)

func runMigrations(ctx context.Context, db *sql.DB, d dialect) error {
	sub, err := fs.Sub(migrations, d.dir)
	if err != nil {
		return fmt.Errorf("open embedded migrations %s: %w", d.dir, err)
	}
	var opts []goose.ProviderOption
	if d.lock != nil {
		l, err := d.lock()
		if err != nil {
			return fmt.Errorf("prepare migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	p, err := goose.NewProvider(d.goose, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("prepare migrations from %s: %w", d.dir, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations from %s: %w", d.dir, err)
	}
	return nil
}
