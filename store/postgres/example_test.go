package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/store/postgres"
)

// Open connects, migrates the schema named by search_path, and owns its pool.
// (Examples of this package need a server, so they are compiled and not run.)
func ExampleOpen() {
	ctx := context.Background()
	store, err := postgres.Open(ctx, "postgres://app@db.internal:5432/app?search_path=audit")
	if err != nil {
		log.Fatal(err) // errors.Is(err, sessions.ErrUnavailable) when the server is down
	}
	defer store.Close()

	page, err := store.ListSessions(ctx, sessions.Filter{
		AccountID: "acct-1",
		Since:     time.Now().Add(-24 * time.Hour),
		Status:    sessions.StatusError,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range page.Sessions {
		log.Println(s.ID, s.AgentName, s.RedactionCount())
	}
}

// New shares the application's pool; WithReadPool sends lists to a replica.
func ExampleNew() {
	ctx := context.Background()
	primary, err := pgxpool.New(ctx, "postgres://app@primary.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer primary.Close()
	replica, err := pgxpool.New(ctx, "postgres://app@replica.internal:5432/app")
	if err != nil {
		log.Fatal(err)
	}
	defer replica.Close()

	store, err := postgres.New(ctx, primary, postgres.WithReadPool(replica))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // leaves both pools open

	// Retention: delete the sessions older than 90 days, in short batches.
	deleted, err := store.PurgeSessions(ctx, time.Now().AddDate(0, 0, -90))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("purged %d sessions", deleted)
}

// WithoutMigrate leaves the schema to the application's schema tool, which applies the files
// of Migrations (goose here; golang-migrate reads the directory "golang-migrate"; psql -f runs
// each as it is). The store then only checks the schema's version.
func ExampleWithoutMigrate() {
	ctx := context.Background()
	// A deploy step, as the owner role: goose.SetBaseFS(postgres.Migrations) and goose.Up(db,
	// "."), or Migrate.
	owner, err := pgxpool.New(ctx, "postgres://owner@db.internal:5432/app?search_path=audit")
	if err != nil {
		log.Fatal(err)
	}
	defer owner.Close()
	if err := postgres.Migrate(ctx, owner); err != nil {
		log.Fatal(err)
	}

	// The application, as a role without DDL rights.
	store, err := postgres.Open(ctx, "postgres://app@db.internal:5432/app?search_path=audit", postgres.WithoutMigrate())
	if errors.Is(err, postgres.ErrSchemaTooOld) {
		log.Fatal(err) // names the files to apply
	}
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}

// Migrations lists the files that a schema tool applies, in order.
func ExampleMigrations() {
	names, err := fs.Glob(postgres.Migrations, "*.sql")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(names[0])
	// Output: 0001_init.sql
}

// With an application's pool, New keeps its settings: give the pool a statement_timeout below
// the handler's timeout (httpapi.DefaultTimeout, 10 s), so that the server ends a statement
// whose request was abandoned, and at least twice httpapi's MaxAccountCalls connections.
// WithCustomPlans makes ListSessions plan each page with its values instead of running prepared
// statements.
func ExampleWithCustomPlans() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig("postgres://app@db.internal:5432/app?search_path=audit")
	if err != nil {
		log.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "8000" // milliseconds
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := postgres.New(ctx, pool, postgres.WithCustomPlans())
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
}
