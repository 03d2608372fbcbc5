package tenanttest

import (
	"testing"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/store/postgres"
)

func init() {
	stores["postgres"] = func(t *testing.T) sessions.Store {
		pool, _ := pgtest.NewSchema(t)
		s, err := postgres.New(t.Context(), pool)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}
