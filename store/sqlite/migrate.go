package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/masker-dev/sessions/internal/schema"
)

// The schema's versions: migrations/NNNN_name.sql is version NNNN, applied in order from 1.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the migrations in order, each ending with the statements of recordSQL.
var migrations = sync.OnceValue(func() []schema.Migration {
	return schema.MustLoad(migrationFiles, "sqlite", recordSQL)
})

// recordSQL returns the statements that end migration version: they create the tracking table
// sessions_schema when it is not there, and record the version in it. A table renamed from the
// schema_version of earlier versions of this package has the same columns, without a default
// for applied_at, which the INSERT therefore gives, in a form that SQLite before 3.42 (whose
// unixepoch has no 'subsec') computes too: the files run in the sqlite3 shells of older systems.
func recordSQL(version int, name string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS sessions_schema (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix milliseconds, UTC
) STRICT;
INSERT INTO sessions_schema (version, name, applied_at)
	VALUES (%d, '%s', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
`, version, name)
}

// schemaVersion is the version of the schema that this package creates and uses: the number of
// its migrations, so that a new migration file is the whole change of version. It is set once,
// at package initialization, and never changed.
var schemaVersion = len(migrations())

// Migrations holds the SQL files of the schema, for applications whose schema tool applies
// every migration, so that the store opens with [WithoutMigrate] and never changes the schema
// itself. It is safe for concurrent use.
//
// At its root, NNNN_name.sql is version NNNN, to be applied in order from 0001, each in a
// transaction. Each file ends with statements that create the table sessions_schema when it is
// not there and insert its version, so that the store knows the version of a schema that
// another tool made: the files run as they are with plain SQL (database/sql's Exec, the sqlite3
// shell), with goose (which reads the "-- +goose" annotations that they carry as comments), and
// with atlas (after `atlas migrate hash` on a directory holding them). The directory
// golang-migrate holds the same files named NNNN_name.up.sql, for golang-migrate's iofs source.
// The text of each file is what [Open] and [Migrate] run.
var Migrations fs.FS = schema.FS(migrations())

// legacyTable is the name of the tracking table in earlier versions of this package, which a
// host application may use for a table of its own.
const legacyTable = "schema_version"

// Migrate brings the schema of db, a database opened with the driver of modernc.org/sqlite
// (database/sql's "sqlite"), to schemaVersion: it applies the missing migrations of
// [Migrations] in one immediate transaction, so that two processes that migrate one file at once
// apply each migration exactly once. It renames the tracking table schema_version of earlier
// versions of this package to sessions_schema, after checking that the table is this package's
// (its columns, and rows naming this package's files), and leaves in its place a schema_version
// of one row, this package's version, so that those earlier versions, which read only that
// table, refuse the file as too new; a table of that name that is not this package's is left
// alone. It leaves db open.
//
// It returns [ErrSchemaTooNew], having written nothing, when the database has a later version;
// [ErrReadOnly] when the process cannot write the database; and the context and database
// errors of the package. It is safe to call concurrently, from any number of processes.
func Migrate(ctx context.Context, db *sql.DB) error {
	return prepare(ctx, db, true)
}

// prepare checks the schema of db's database and, when migrate is set, migrates it, in one
// immediate transaction (an explicit BEGIN IMMEDIATE on one connection, whatever the _txlock of
// db), which ends with a write that changes nothing: a database that the process can read but
// not write gives ErrReadOnly, even when its schema is up to date. Without migrate, it returns
// ErrSchemaTooOld when the schema is behind, and writes nothing.
func prepare(ctx context.Context, db *sql.DB, migrate bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return mapError(ctx, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return mapError(ctx, err)
	}
	err = prepareTx(ctx, conn, migrate)
	if err == nil && migrate {
		_, err = conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil || !migrate {
		// After a failed COMMIT, SQLite may have rolled back already; this ROLLBACK's error
		// says nothing more.
		conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	}
	return mapError(ctx, err)
}

func prepareTx(ctx context.Context, conn *sql.Conn, migrate bool) error {
	// Read the version before writing anything: a newer file must stay as it is.
	version, legacy, err := readVersion(ctx, conn)
	if err != nil {
		return err
	}
	ms := migrations()
	switch {
	case version > len(ms):
		return fmt.Errorf("%w: the file has schema version %d, this package knows up to %d", ErrSchemaTooNew, version, len(ms))
	case !migrate && legacy:
		return fmt.Errorf("%w: its versions are in the table %s, as earlier versions of this package named it: "+
			"call sqlite.Migrate, or open it once without WithoutMigrate, which renames the table to sessions_schema",
			ErrSchemaTooOld, legacyTable)
	case !migrate && version < len(ms):
		return tooOld(version, ms)
	}
	if legacy {
		// The earlier versions read only schema_version: in its place, a row of this version
		// makes them refuse the file (their ErrSchemaTooNew) rather than create it anew.
		_, err := conn.ExecContext(ctx, "ALTER TABLE "+legacyTable+" RENAME TO sessions_schema; "+
			"CREATE TABLE "+legacyTable+" (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT")
		if err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "INSERT INTO "+legacyTable+" VALUES (?, 'sessions_schema holds the versions', ?)",
			len(ms), time.Now().UnixMilli())
		if err != nil {
			return err
		}
	}
	for _, m := range ms[version:] {
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	// The write that tells a read-only database (SQLITE_READONLY): no row has a negative version.
	_, err = conn.ExecContext(ctx, "DELETE FROM sessions_schema WHERE version < 0")
	return err
}

// tooOld returns the ErrSchemaTooOld of a schema at version, behind ms.
func tooOld(version int, ms []schema.Migration) error {
	missing := ms[version].Name
	if version < len(ms)-1 {
		missing += " to " + ms[len(ms)-1].Name
	}
	have := fmt.Sprintf("the file has schema version %d", version)
	if version == 0 {
		have = "the file has no schema version of this package (sessions_schema is absent or empty)"
	}
	return fmt.Errorf("%w: %s, this package needs version %d: apply %s of sqlite.Migrations, "+
		"or call sqlite.Migrate, or open it without WithoutMigrate", ErrSchemaTooOld, have, len(ms), missing)
}

// readVersion returns the schema version that the database of q records: the highest version in
// sessions_schema; else, with legacy set, the one in the schema_version table of earlier versions
// of this package, when that table is this package's (see isLegacyTable); else 0.
func readVersion(ctx context.Context, q *sql.Conn) (version int, legacy bool, err error) {
	exists := func(table string) (bool, error) {
		var n int
		err := q.QueryRowContext(ctx,
			"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n)
		return n > 0, err
	}
	ok, err := exists("sessions_schema")
	if err != nil || ok {
		if ok {
			err = q.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM sessions_schema").Scan(&version)
		}
		return version, false, err
	}
	if ok, err := exists(legacyTable); err != nil || !ok {
		return 0, false, err
	}
	version, err = legacyVersion(ctx, q)
	if errors.Is(err, errNotLegacy) {
		return 0, false, nil // a table of the host application: not ours to read or change
	}
	return version, err == nil, err
}

// errNotLegacy is legacyVersion's answer for a schema_version table that is not this package's.
var errNotLegacy = errors.New("not this package's schema_version")

// legacyVersion returns the version in the table schema_version when it is the tracking table of
// an earlier version of this package: a STRICT table of exactly the columns version (INTEGER
// PRIMARY KEY), name (TEXT) and applied_at (INTEGER), all NOT NULL, whose rows are the versions
// 1, 2, 3... each with the file name of this package's migration of that version, beside the
// tables agents and sessions. Any other table gives errNotLegacy, having read no row of it
// unless its columns are those.
func legacyVersion(ctx context.Context, q *sql.Conn) (int, error) {
	var strict, tables int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = 'schema_version'),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('agents', 'sessions'))`).Scan(&strict, &tables)
	if err != nil {
		return 0, err
	}
	if strict != 1 || tables != 2 {
		return 0, errNotLegacy
	}
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info('schema_version') ORDER BY cid`)
	if err != nil {
		return 0, err
	}
	type column struct {
		Name, Type  string
		NotNull, PK int
	}
	var columns []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.PK); err != nil {
			rows.Close()
			return 0, err
		}
		columns = append(columns, c)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	want := []column{{"version", "INTEGER", 1, 1}, {"name", "TEXT", 1, 0}, {"applied_at", "INTEGER", 1, 0}}
	if len(columns) != len(want) {
		return 0, errNotLegacy
	}
	for i := range want {
		if columns[i] != want[i] {
			return 0, errNotLegacy
		}
	}
	rows, err = q.QueryContext(ctx, "SELECT version, name FROM schema_version ORDER BY version")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	ms := migrations()
	version := 0
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return 0, err
		}
		if v != version+1 || v > len(ms) || ms[v-1].Name != name {
			return 0, errNotLegacy
		}
		version = v
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if version == 0 {
		return 0, errNotLegacy
	}
	return version, nil
}
