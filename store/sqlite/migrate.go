package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/masker-dev/sessions/internal/schema"
)

// The schema's versions: migrations/NNNN_name.sql is version NNNN, applied in order from 1.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in order.
func migrations() []schema.Migration { return schema.MustLoad(migrationFiles, "sqlite") }

// schemaVersion is the version of the schema that this package creates and uses: the number of
// its embedded migrations, so that a new migration file is the whole change of version. It is
// set once, at package initialization, and never changed.
var schemaVersion = len(migrations())

// versionTableSQL creates the table that records each applied migration.
const versionTableSQL = `CREATE TABLE IF NOT EXISTS schema_version (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL -- Unix milliseconds, UTC
) STRICT`

// migrate brings the database of db (the writer) to schemaVersion in one immediate
// transaction, so that two processes that open a new file at once migrate it exactly once. It
// returns ErrSchemaTooNew, having written nothing, when the file has a later version, and
// mapped driver errors.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return mapError(ctx, err)
	}
	defer tx.Rollback()
	if err := migrateTx(ctx, tx); err != nil {
		return mapError(ctx, err)
	}
	return mapError(ctx, tx.Commit())
}

func migrateTx(ctx context.Context, tx *sql.Tx) error {
	// Read the version before writing anything: a newer file must stay as it is.
	var exists bool
	err := tx.QueryRowContext(ctx,
		"SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'").Scan(&exists)
	if err != nil {
		return err
	}
	current := 0
	if exists {
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&current); err != nil {
			return err
		}
	}
	if current > schemaVersion {
		return fmt.Errorf("%w: the file has schema version %d, this package knows up to %d", ErrSchemaTooNew, current, schemaVersion)
	}
	if current == schemaVersion {
		return nil
	}
	if _, err := tx.ExecContext(ctx, versionTableSQL); err != nil {
		return err
	}
	for _, m := range migrations()[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
			m.Version, m.Name, time.Now().UnixMilli())
		if err != nil {
			return err
		}
	}
	return nil
}
