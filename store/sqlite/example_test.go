package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/sqlite"
)

// Open creates the database file and its schema; sessions written are listed newest first.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "sessions.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	agent := sessions.Agent{ID: sessions.NewAgentID(), AccountID: "acct-1", Name: "Front desk"}
	if err := store.PutAgent(ctx, agent); err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	var batch []sessions.Session
	for i := range 3 {
		t := start.Add(time.Duration(i) * time.Minute)
		batch = append(batch, sessions.Session{
			ID: sessions.NewSessionID(t), AccountID: "acct-1", AgentID: agent.ID,
			StartedAt: t, EndedAt: t.Add(794 * time.Millisecond), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"PHONE": i},
		})
	}
	if err := store.PutSessions(ctx, batch...); err != nil {
		log.Fatal(err)
	}

	page, err := store.ListSessions(ctx, sessions.Filter{AccountID: "acct-1", AgentID: agent.ID, Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range page.Sessions {
		fmt.Println(s.StartedAt.Format(time.RFC3339), s.AgentName, s.Duration(), s.RedactionCount())
	}
	fmt.Println("more:", page.Next != nil)

	// Retention: delete what started before the second session.
	deleted, err := store.PurgeSessions(ctx, start.Add(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("purged:", deleted)
	// Output:
	// 2026-05-03T21:16:32Z Front desk 794ms 2
	// 2026-05-03T21:15:32Z Front desk 794ms 1
	// more: true
	// purged: 1
}

// New uses a handle that the application opened with the modernc driver. Its DSN must give every
// connection of the pool the settings that the store checks (HandleDSN); Close leaves it open.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "sessions-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(dir, "app.db")+"?"+sqlite.HandleDSN)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	store, err := sqlite.New(ctx, db)
	if err != nil {
		log.Fatal(err) // errors.Is(err, sqlite.ErrSettings), naming what the DSN lacks
	}
	store.Close() // db stays open

	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		log.Fatal(err)
	}
	fmt.Println(mode)
	// Output: wal
}

// WithoutMigrate leaves the schema to the application: here the files of Migrations applied with
// plain SQL, as any schema tool would (goose: goose.SetBaseFS(sqlite.Migrations); golang-migrate:
// iofs.New(sqlite.Migrations, "golang-migrate")). The store then only checks the version.
func ExampleWithoutMigrate() {
	dir, err := os.MkdirTemp("", "sessions-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "app.db")

	ctx := context.Background()
	_, err = sqlite.Open(ctx, path, sqlite.WithoutMigrate())
	fmt.Println(errors.Is(err, sqlite.ErrSchemaTooOld))

	db, err := sql.Open("sqlite", path)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	names, err := fs.Glob(sqlite.Migrations, "*.sql") // in order
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range names {
		text, err := fs.ReadFile(sqlite.Migrations, name)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(text)); err != nil {
			log.Fatal(err)
		}
	}

	store, err := sqlite.Open(ctx, path, sqlite.WithoutMigrate())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	fmt.Println("opened without migrating:", store != nil)
	// Output:
	// true
	// opened without migrating: true
}
