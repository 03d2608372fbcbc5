package postgres

import (
	"context"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions/internal/pgtest"
)

// TestOpenDefaults checks the pool that Open makes: DefaultMaxConns connections and a
// statement_timeout of DefaultStatementTimeout unless the connection string sets them.
func TestOpenDefaults(t *testing.T) {
	type settings struct {
		MaxConns         int32
		StatementTimeout string
	}
	for _, tc := range []struct {
		name   string
		params url.Values
		want   settings
	}{
		{"defaults", url.Values{}, settings{DefaultMaxConns, "8s"}},
		{"set by the connection string", url.Values{"pool_max_conns": {"3"}, "statement_timeout": {"250"}}, settings{3, "250ms"}},
		{"set in options", url.Values{"options": {"-c statement_timeout=1234"}}, settings{DefaultMaxConns, "1234ms"}},
		{"set in options with another setting", url.Values{"options": {"-c work_mem=8MB -cstatement_timeout=2s"}}, settings{DefaultMaxConns, "2s"}},
		{"set in options with dashes", url.Values{"options": {"-c statement-timeout=1234"}}, settings{DefaultMaxConns, "1234ms"}},
		{"set in options as a long option", url.Values{"options": {"--statement-timeout=1234"}}, settings{DefaultMaxConns, "1234ms"}},
		{"set in options in capitals", url.Values{"options": {"-c STATEMENT_TIMEOUT=1234"}}, settings{DefaultMaxConns, "1234ms"}},
		{"another setting in options", url.Values{"options": {"-c lock_timeout=1234"}}, settings{DefaultMaxConns, "8s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			_, schema := pgtest.NewSchema(t)
			u, err := url.Parse(pgtest.ServerURL(t))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("search_path", schema)
			for k, v := range tc.params {
				q[k] = v
			}
			u.RawQuery = q.Encode()
			s, err := Open(ctx, u.String())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := settings{MaxConns: s.pool.Config().MaxConns}
			if err := s.pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&got.StatementTimeout); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
