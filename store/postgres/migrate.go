package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions/internal/schema"
)

// The schema's versions: migrations/NNNN_name.sql is version NNNN, applied in order from 1.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the migrations in order, each ending with the statements of recordSQL.
var migrations = sync.OnceValue(func() []schema.Migration {
	return schema.MustLoad(migrationFiles, "postgres", recordSQL)
})

// recordSQL returns the statements that end migration version: they create the tracking table
// sessions_schema when it is not there, and record the version in it.
func recordSQL(version int, name string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS sessions_schema (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sessions_schema (version, name) VALUES (%d, '%s');
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
// transaction, with the search_path of the store (every name in them is unqualified). Each file
// ends with statements that create the table sessions_schema when it is not there and insert
// its version, so that the store knows the version of a schema that another tool made: the
// files run as they are with plain SQL (psql --single-transaction -f, pgx's Exec), with goose
// (which reads the "-- +goose" annotations that they carry as comments), and with atlas (after
// `atlas migrate hash` on a directory holding them). The directory golang-migrate holds the same
// files named NNNN_name.up.sql, for golang-migrate's iofs source. The text of each file is what
// [Open], [New] and [Migrate] run.
var Migrations fs.FS = schema.FS(migrations())

// lockKeyPrefix names the advisory lock of migrations; the schema's name follows it.
const lockKeyPrefix = "github.com/masker-dev/sessions/store/postgres migrate "

// Migrate brings the schema of the pool connections' current schema to schemaVersion, applying
// the missing migrations of [Migrations] in one transaction under an advisory lock whose key is
// derived from the schema's name, so that instances that migrate at once apply each migration
// exactly once. It is what [Open] and [New] do unless [WithoutMigrate]; it leaves pool open.
//
// It returns [ErrSchemaTooNew] when the schema has a later version, an error when the
// search_path names no existing schema, and mapped driver errors. It is safe for concurrent use.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return retry(ctx, int(pool.Config().MaxConns)+1, func() error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return migrateTx(ctx, tx) })
	})
}

var errNoSchema = errors.New("postgres: the search_path names no existing schema to create the tables in")

func migrateTx(ctx context.Context, tx pgx.Tx) error {
	// A migration may build an index over every session: no statement_timeout (Open's default
	// or the application's) applies to it.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return err
	}
	schema, err := currentSchema(ctx, tx)
	if err != nil {
		return err
	}
	// Concurrent openers of this schema wait here, until the first one commits its migrations.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", lockKeyPrefix+schema); err != nil {
		return err
	}
	version, err := readVersion(ctx, tx)
	if err != nil {
		return err
	}
	ms := migrations()
	if version > len(ms) {
		return fmt.Errorf("%w: schema %q is at version %d, and this package knows versions up to %d",
			ErrSchemaTooNew, schema, version, len(ms))
	}
	for _, m := range ms[version:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("applying %s: %w", m.Name, err)
		}
	}
	return nil
}

// checkVersion returns nil when the schema of the pool connections' current schema is at
// schemaVersion, and ErrSchemaTooOld or ErrSchemaTooNew otherwise, having written nothing.
func checkVersion(ctx context.Context, pool *pgxpool.Pool) error {
	return retry(ctx, int(pool.Config().MaxConns)+1, func() error {
		return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			schema, err := currentSchema(ctx, tx)
			if err != nil {
				return err
			}
			version, err := readVersion(ctx, tx)
			if err != nil {
				return err
			}
			ms := migrations()
			switch {
			case version > len(ms):
				return fmt.Errorf("%w: schema %q is at version %d, and this package knows versions up to %d",
					ErrSchemaTooNew, schema, version, len(ms))
			case version < len(ms):
				return tooOld(schema, version, ms)
			}
			return nil
		})
	})
}

// tooOld returns the ErrSchemaTooOld of schema at version, behind ms.
func tooOld(schema string, version int, ms []schema.Migration) error {
	missing := ms[version].Name
	if version < len(ms)-1 {
		missing += " to " + ms[len(ms)-1].Name
	}
	have := fmt.Sprintf("schema %q is at version %d", schema, version)
	if version == 0 {
		have = fmt.Sprintf("schema %q has no version of this package (sessions_schema is absent or empty)", schema)
	}
	return fmt.Errorf("%w: %s, and this package needs version %d: apply %s of postgres.Migrations, "+
		"or call postgres.Migrate, or open it without WithoutMigrate", ErrSchemaTooOld, have, len(ms), missing)
}

// currentSchema returns the schema in which the tables are, or errNoSchema.
func currentSchema(ctx context.Context, tx pgx.Tx) (string, error) {
	var schema *string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", errNoSchema
	}
	return *schema, nil
}

// readVersion returns the highest version in sessions_schema of the current schema, 0 when the
// table does not exist.
func readVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_tables
		WHERE schemaname = current_schema() AND tablename = 'sessions_schema')`).Scan(&exists)
	if err != nil || !exists {
		return 0, err
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM sessions_schema").Scan(&version)
	return version, err
}
