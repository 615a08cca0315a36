package sqlstore_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mxaccounts/mxaccounts/internal/store/sqlstore"
	"github.com/mxaccounts/mxaccounts/internal/store/storetest"
)

// migrationVersions returns the sorted versions of the migration files of dialect, read
// from the source tree that the store embeds.
func migrationVersions(t *testing.T, dialect string) []int64 {
	t.Helper()

	files, err := filepath.Glob(filepath.Join("migrations", dialect, "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("find the migrations of %s: %d files, %v", dialect, len(files), err)
	}

	var versions []int64
	for _, f := range files {
		num, _, _ := strings.Cut(filepath.Base(f), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s has no version number: %v", f, err)
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions
}

// wantMigrated fails the test unless every migration file was applied exactly once.
func wantMigrated(t *testing.T, s *sqlstore.Store) {
	t.Helper()

	var applied []int64
	query(t, s, `SELECT version_id FROM goose_db_version WHERE version_id > 0
		ORDER BY version_id`, nil, func(r sqlstore.Rows) error {
		var v int64
		err := r.Scan(&v)
		applied = append(applied, v)
		return err
	})

	if want := migrationVersions(t, s.Dialect()); !slices.Equal(applied, want) {
		t.Errorf("goose_db_version holds versions %v; want each of %v once", applied, want)
	}
}

// open opens the store opts name and applies the migrations when migrate is set; the
// caller closes it.
func open(t *testing.T, opts sqlstore.Options, migrate bool) *sqlstore.Store {
	t.Helper()

	opts.Migrate = migrate
	s, err := sqlstore.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open (migrate %v): %v", migrate, err)
	}
	return s
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()

	storetest.RunOptions(t, func(t *testing.T, opts sqlstore.Options) {
		ctx := t.Context()

		first := open(t, opts, true)
		wantMigrated(t, first)
		createAccount(t, first, "alice")
		if err := first.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		// Opening the same database again migrates nothing and keeps the rows.
		second := open(t, opts, true)
		defer second.Close()
		wantMigrated(t, second)
		if err := second.Migrate(ctx); err != nil {
			t.Fatalf("Migrate on a migrated database: %v", err)
		}
		wantMigrated(t, second)

		if _, err := second.AccountByLocalpart(ctx, "alice"); err != nil {
			t.Errorf("AccountByLocalpart after reopening: %v", err)
		}
		createAccount(t, second, "bob")
	})
}

func TestMigrateLater(t *testing.T) {
	t.Parallel()

	storetest.RunOptions(t, func(t *testing.T, opts sqlstore.Options) {
		ctx := t.Context()

		s := open(t, opts, false)
		defer s.Close()
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}

		// Without migrations there are no tables.
		if _, err := s.CountAccounts(ctx); err == nil {
			t.Fatalf("CountAccounts on an unmigrated database succeeded")
		}

		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		wantMigrated(t, s)
		createAccount(t, s, "alice")
	})
}

// TestConcurrentMigrations opens one fresh PostgreSQL database from several stores at
// once, as instances that start together do; the migration lock keeps them from
// applying a migration twice. SQLite is left out: one data directory serves one
// process.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()

	opts := storetest.PostgresOptions(t)
	opts.Migrate = true

	var (
		wg     sync.WaitGroup
		stores = make([]*sqlstore.Store, 4)
		errs   = make([]error, len(stores))
	)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlstore.Open(context.Background(), opts) })
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	if t.Failed() {
		return
	}
	wantMigrated(t, stores[0])
}

// column is what the schema comparison checks of one column.
type column struct {
	// kind is the storage class: integer (booleans too), text or blob.
	kind    string
	notNull bool
}

// schema is the shape of a database: columns per table, and its indexes written as
// "table(col,col)" with " unique" after unique ones.
type schema struct {
	tables  map[string]map[string]column
	indexes []string
}

// query runs a query on s and calls scan for each row.
func query(t *testing.T, s *sqlstore.Store, q string, args []any,
	scan func(r sqlstore.Rows) error,
) {
	t.Helper()

	rs, err := s.RawQuery(t.Context(), q, args...)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer rs.Close()

	for rs.Next() {
		if err := scan(rs); err != nil {
			t.Fatalf("read %s: %v", q, err)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
}

// sqliteSchema reads the schema of an SQLite store from sqlite_master and pragmas.
func sqliteSchema(t *testing.T, s *sqlstore.Store) schema {
	t.Helper()

	sc := schema{tables: map[string]map[string]column{}}
	query(t, s, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`, nil, func(r sqlstore.Rows) error {
		var name string
		err := r.Scan(&name)
		sc.tables[name] = map[string]column{}
		return err
	})

	for table, cols := range sc.tables {
		var keys, intKeys []string
		query(t, s, `SELECT name, type, "notnull", pk FROM pragma_table_info(?)`,
			[]any{table}, func(r sqlstore.Rows) error {
				var (
					name, typ   string
					notNull, pk int64
				)
				err := r.Scan(&name, &typ, &notNull, &pk)
				// SQLite lets a PRIMARY KEY column other than INTEGER hold NULL unless it
				// says NOT NULL; the store never writes NULL there, and PostgreSQL makes
				// such columns NOT NULL, so they count as NOT NULL here.
				cols[name] = column{kind: sqliteKind(typ), notNull: notNull == 1 || pk > 0}
				if pk > 0 {
					keys = append(keys, name)
				}
				if pk > 0 && strings.EqualFold(typ, "INTEGER") {
					intKeys = append(intKeys, name)
				}
				return err
			})
		// An INTEGER PRIMARY KEY is the rowid, which SQLite lists as no index;
		// PostgreSQL's primary key index stands for it.
		if len(keys) == 1 && len(intKeys) == 1 {
			sc.indexes = append(sc.indexes, indexKey(table, intKeys, true))
		}

		var indexes []string
		query(t, s, `SELECT name, "unique" FROM pragma_index_list(?)`, []any{table},
			func(r sqlstore.Rows) error {
				var (
					name   string
					unique bool
				)
				err := r.Scan(&name, &unique)
				indexes = append(indexes, name+"\x00"+strconv.FormatBool(unique))
				return err
			})
		for _, idx := range indexes {
			name, unique, _ := strings.Cut(idx, "\x00")
			var cols []string
			query(t, s, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, []any{name},
				func(r sqlstore.Rows) error {
					var col string
					err := r.Scan(&col)
					cols = append(cols, col)
					return err
				})
			sc.indexes = append(sc.indexes, indexKey(table, cols, unique == "true"))
		}
	}

	slices.Sort(sc.indexes)
	return sc
}

// sqliteKind maps a declared SQLite column type to its storage class.
func sqliteKind(typ string) string {
	switch t := strings.ToUpper(typ); {
	case strings.Contains(t, "INT"):
		return "integer"
	case strings.Contains(t, "TEXT"), strings.Contains(t, "CHAR"):
		return "text"
	case t == "BLOB":
		return "blob"
	default:
		return "other: " + typ
	}
}

// postgresSchema reads the schema of a PostgreSQL store from information_schema and
// the catalog.
func postgresSchema(t *testing.T, s *sqlstore.Store) schema {
	t.Helper()

	sc := schema{tables: map[string]map[string]column{}}
	query(t, s, `
		SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
		FROM information_schema.columns c
		JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`,
		nil, func(r sqlstore.Rows) error {
			var table, name, typ, nullable string
			err := r.Scan(&table, &name, &typ, &nullable)
			if sc.tables[table] == nil {
				sc.tables[table] = map[string]column{}
			}
			sc.tables[table][name] = column{kind: postgresKind(typ), notNull: nullable == "NO"}
			return err
		})

	query(t, s, `
		SELECT tbl.relname::text, i.indisunique,
		       array_to_string(array_agg(a.attname::text ORDER BY k.ord), ',')
		FROM pg_index i
		JOIN pg_class tbl ON tbl.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = tbl.relnamespace
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = tbl.oid AND a.attnum = k.attnum
		WHERE n.nspname = current_schema()
		GROUP BY i.indexrelid, tbl.relname, i.indisunique`,
		nil, func(r sqlstore.Rows) error {
			var (
				table, cols string
				unique      bool
			)
			err := r.Scan(&table, &unique, &cols)
			sc.indexes = append(sc.indexes, indexKey(table, strings.Split(cols, ","), unique))
			return err
		})

	slices.Sort(sc.indexes)
	return sc
}

// postgresKind maps a PostgreSQL data type to the SQLite storage class that holds it.
func postgresKind(typ string) string {
	switch typ {
	case "smallint", "integer", "bigint", "boolean":
		return "integer"
	case "text", "character varying":
		return "text"
	case "bytea":
		return "blob"
	default:
		return "other: " + typ
	}
}

func indexKey(table string, cols []string, unique bool) string {
	k := fmt.Sprintf("%s(%s)", table, strings.Join(cols, ","))
	if unique {
		k += " unique"
	}
	return k
}

// gooseTable is where goose records the applied migrations. Goose creates it with
// types of its own per dialect, so only its presence is compared.
const gooseTable = "goose_db_version"

func TestSchemaSameInBothDialects(t *testing.T) {
	t.Parallel()

	pg := storetest.Open(t, storetest.PostgresOptions(t))
	lite := storetest.Open(t, storetest.SQLiteOptions(t))

	want, got := sqliteSchema(t, lite), postgresSchema(t, pg)

	wantTables := slices.Sorted(maps.Keys(want.tables))
	gotTables := slices.Sorted(maps.Keys(got.tables))
	if !slices.Equal(wantTables, gotTables) {
		t.Fatalf("tables: SQLite has %q, PostgreSQL %q", wantTables, gotTables)
	}
	if !slices.Contains(wantTables, gooseTable) || len(wantTables) < 2 {
		t.Fatalf("tables %q: want %s and the store's own", wantTables, gooseTable)
	}

	for _, table := range wantTables {
		if table == gooseTable {
			continue
		}
		w, g := want.tables[table], got.tables[table]
		for _, col := range slices.Sorted(maps.Keys(w)) {
			if c, ok := g[col]; !ok {
				t.Errorf("column %s.%s is missing in PostgreSQL", table, col)
			} else if c != w[col] {
				t.Errorf("column %s.%s: SQLite %+v, PostgreSQL %+v", table, col, w[col], c)
			}
		}
		for _, col := range slices.Sorted(maps.Keys(g)) {
			if _, ok := w[col]; !ok {
				t.Errorf("column %s.%s is missing in SQLite", table, col)
			}
		}
	}

	// Indexes on goose's table differ (SQLite's id is the rowid), so they are left out.
	ours := func(keys []string) []string {
		return slices.DeleteFunc(keys, func(k string) bool {
			return strings.HasPrefix(k, gooseTable+"(")
		})
	}
	w, g := ours(want.indexes), ours(got.indexes)
	if !slices.Equal(w, g) {
		t.Errorf("indexes differ:\nSQLite:     %q\nPostgreSQL: %q", w, g)
	}

	columns := 0
	for _, cols := range want.tables {
		columns += len(cols)
	}
	t.Logf("compared %d tables with %d columns, and indexes %q", len(wantTables), columns, w)
}
