package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions/internal/schema"
)

// The schema's versions: migrations/NNNN_name.sql is version NNNN, applied in order from 1.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in order.
func migrations() []schema.Migration { return schema.MustLoad(migrationFiles, "postgres") }

// schemaVersion is the version of the schema that this package creates and uses: the number of
// its embedded migrations, so that a new migration file is the whole change of version. It is
// set once, at package initialization, and never changed.
var schemaVersion = len(migrations())

// lockKeyPrefix names the advisory lock of migrations; the schema's name follows it.
const lockKeyPrefix = "github.com/masker-dev/sessions/store/postgres migrate "

// migrate brings the schema of the pool's current schema to schemaVersion, in one transaction
// under an advisory lock whose key is derived from the schema's name. It returns ErrSchemaTooNew
// when the schema has a later version, and mapped driver errors.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return retry(ctx, int(pool.Config().MaxConns)+1, func() error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return migrateTx(ctx, tx) })
	})
}

var errNoSchema = errors.New("postgres: the search_path names no existing schema to create the tables in")

func migrateTx(ctx context.Context, tx pgx.Tx) error {
	var schema *string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errNoSchema
	}
	// Concurrent openers of this schema wait here, until the first one commits its migrations.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", lockKeyPrefix+*schema); err != nil {
		return err
	}
	var exists bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_catalog.pg_tables
		WHERE schemaname = current_schema() AND tablename = 'sessions_schema')`).Scan(&exists)
	if err != nil {
		return err
	}
	version := 0
	if exists {
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM sessions_schema").Scan(&version); err != nil {
			return err
		}
	} else {
		_, err := tx.Exec(ctx, `CREATE TABLE sessions_schema (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return err
		}
	}
	ms := migrations()
	if version > len(ms) {
		return fmt.Errorf("%w: schema %q is at version %d, and this package knows versions up to %d",
			ErrSchemaTooNew, *schema, version, len(ms))
	}
	for _, m := range ms[version:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("applying %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO sessions_schema (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
			return err
		}
	}
	return nil
}
