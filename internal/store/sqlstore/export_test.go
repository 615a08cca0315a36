package sqlstore

import (
	"context"
	"fmt"
)

// This file gives the tests in package sqlstore_test (which cannot be in package
// sqlstore, since storetest imports it) the raw access they need to check what no
// store method reads back, such as a device's display name or the schema.

// Rows is a result set of RawQuery.
type Rows = rows

// Row is the result of RawQueryRow.
type Row = row

// Dialect names the database s runs on: "sqlite" or "postgres", as the subtests of
// storetest are named.
func (s *Store) Dialect() string {
	switch s.base().(type) {
	case *sqliteBackend:
		return "sqlite"
	case *postgresBackend:
		return "postgres"
	default:
		panic(fmt.Sprintf("unknown backend %T", s.base()))
	}
}

// RawQueryRow runs query, written with ? placeholders, where s's methods would.
func (s *Store) RawQueryRow(ctx context.Context, query string, args ...any) Row {
	return s.q.queryRow(ctx, query, args...)
}

// RawQuery runs query, written with ? placeholders, where s's methods would.
func (s *Store) RawQuery(ctx context.Context, query string, args ...any) (Rows, error) {
	return s.q.query(ctx, query, args...)
}

// RawExec runs statement, written with ? placeholders, where s's methods would, and
// returns how many rows it changed.
func (s *Store) RawExec(ctx context.Context, statement string, args ...any) (int64, error) {
	return s.q.exec(ctx, statement, args...)
}
