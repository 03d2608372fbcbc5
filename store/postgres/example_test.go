package postgres_test

import (
	"context"
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
