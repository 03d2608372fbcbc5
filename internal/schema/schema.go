// Package schema reads the embedded SQL migrations of the SQL stores: files named
// migrations/NNNN_name.sql, where NNNN is the version, numbered 1, 2, 3... It also builds the
// files that a store exports for schema tools (goose, golang-migrate, atlas, plain SQL): see
// [Migration.SQL] and [FS].
package schema

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// TrackingTable is the name of the table in which each store records the versions of its
// schema, one row per applied migration: a name of its own, so that a host application's
// table (goose's, golang-migrate's, its own schema_version) is never read as this library's.
const TrackingTable = "sessions_schema"

// Migration is one versioned SQL file.
type Migration struct {
	Version int    // NNNN of the file name
	Name    string // the file name, such as 0001_init.sql
	// SQL is the text that applies the migration: the file's statements, then the statements
	// that record its version in TrackingTable, all between goose's annotations (comments to
	// any other tool). The stores run this text, and export it as the file: what a schema tool
	// applies is byte for byte what the store runs.
	SQL string
}

// Record returns the statements that end the text of migration version (file name): they
// create the tracking table when it is not there and insert the version's row. The stores give
// their own, in their SQL dialect. name is a file name checked by MustLoad ([0-9a-z_.]), which
// the statements may quote as a literal.
type Record func(version int, name string) string

// MustLoad returns the migrations/*.sql files of fsys in version order, each followed by the
// statements of record. It panics, naming the store, when a file has no version number, its
// name has a character other than a lowercase letter, a digit, '_' or '.', or the versions are
// not 1, 2, 3...: a bug of that store, which its tests catch.
func MustLoad(fsys fs.FS, store string, record Record) []Migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []Migration
	for _, name := range names {
		base := path.Base(name)
		prefix, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(prefix)
		if err != nil {
			panic(fmt.Sprintf("%s: migration %s: no version number", store, name))
		}
		if strings.Trim(base, "abcdefghijklmnopqrstuvwxyz0123456789_.") != "" {
			panic(fmt.Sprintf("%s: migration %s: want a name of [0-9a-z_.]", store, name))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: text(string(b), record(v, base))})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			panic(fmt.Sprintf("%s: migration %s: want version %d", store, m.Name, i+1))
		}
	}
	return ms
}

// text returns the SQL of a migration: file, then record, inside goose's annotations. goose
// reads the whole text as one statement (StatementBegin/End), which it runs in one
// transaction, as the stores and golang-migrate do; to every other tool they are comments.
func text(file, record string) string {
	var b strings.Builder
	b.WriteString("-- +goose Up\n-- +goose StatementBegin\n")
	b.WriteString(strings.TrimRight(file, "\n"))
	b.WriteString("\n\n-- Records this version, which the store reads when it opens (see Migrations).\n")
	b.WriteString(strings.TrimRight(record, "\n"))
	b.WriteString("\n-- +goose StatementEnd\n")
	return b.String()
}

// GolangMigrateDir is the directory of the FS of [FS] that holds the migrations named as
// golang-migrate wants them (NNNN_name.up.sql).
const GolangMigrateDir = "golang-migrate"

// FS returns the migrations as a read-only file system: each migration's SQL as NNNN_name.sql
// at the root (plain SQL, goose, atlas), and again as golang-migrate/NNNN_name.up.sql. It is
// safe for concurrent use.
func FS(ms []Migration) fs.FS {
	root := &dir{name: "."}
	sub := &dir{name: GolangMigrateDir}
	for _, m := range ms {
		root.entries = append(root.entries, &file{name: m.Name, data: m.SQL})
		up := strings.TrimSuffix(m.Name, ".sql") + ".up.sql"
		sub.entries = append(sub.entries, &file{name: up, data: m.SQL})
	}
	root.entries = append(root.entries, sub) // "golang-migrate" sorts after the digits
	return root
}
