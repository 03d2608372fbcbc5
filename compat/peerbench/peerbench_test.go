package peerbench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/benchdata"
	"github.com/masker-dev/sessions/internal/pgtest"
	"github.com/masker-dev/sessions/store/postgres"
	"github.com/masker-dev/sessions/store/sqlite"
	gormpostgres "gorm.io/driver/postgres"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// limit is the page size of every case: the API's default.
const limit = 25

// pages are the page numbers of the cases.
var pages = []int{1, 100, 1000}

// size returns the number of sessions to load: SESSIONS_BENCH_SIZE, or 20,000.
func size(tb testing.TB) int {
	tb.Helper()
	if os.Getenv("SESSIONS_BENCH_SIZE") == "" {
		return 20_000
	}
	n, err := benchdata.Size()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// row is a session as the plain queries and GORM read it: the columns of the sessions table.
type row struct {
	ID               string
	AccountID        string
	AgentID          string
	StartedAt        time.Time
	EndedAt          time.Time
	Status           string
	RedactionsByKind kinds
	UpstreamModel    string
}

// TableName is the table of row for GORM.
func (row) TableName() string { return "sessions" }

// kinds scans redactions_by_kind (jsonb, or JSON text on SQLite) into a map, as a GORM user
// would with a Scanner.
type kinds map[string]int

// GormDataType tells GORM the column's type.
func (kinds) GormDataType() string { return "json" }

// Value implements driver.Valuer, which GORM requires of a field type beside sql.Scanner.
func (k kinds) Value() (driver.Value, error) { return json.Marshal(k) }

// Scan implements sql.Scanner.
func (k *kinds) Scan(v any) error {
	switch v := v.(type) {
	case []byte:
		return json.Unmarshal(v, k)
	case string:
		return json.Unmarshal([]byte(v), k)
	case map[string]any: // pgx decodes jsonb itself
		m := make(kinds, len(v))
		for name, n := range v {
			f, _ := n.(float64)
			m[name] = int(f)
		}
		*k = m
		return nil
	}
	return fmt.Errorf("peerbench: cannot scan %T into kinds", v)
}

// filterCase is a filter of the cases, and its predicate as a user writes it.
type filterCase struct {
	name   string
	status sessions.Status
	min    int
}

var filters = []filterCase{{"unfiltered", "", 0}, {"status=error", sessions.StatusError, 0}, {"min_redactions=3", "", 3}}

// benchCase is one case: a filter of a scope, and the page to read.
type benchCase struct {
	name   string
	f      sessions.Filter // the library's filter, with the page's cursor
	offset int             // the page's OFFSET
}

// cases returns the cases over store: for the busiest agent and the account, each filter, and
// each page of pages that the data reaches, with its cursor found by walking the library's pages.
func cases(tb testing.TB, store sessions.Store) []benchCase {
	tb.Helper()
	ctx := context.Background()
	var out []benchCase
	for _, scope := range []struct{ name, agent string }{{"agent", benchdata.AgentList()[0].ID}, {"account", ""}} {
		for _, fc := range filters {
			f := sessions.Filter{AccountID: benchdata.Account, AgentID: scope.agent, Status: fc.status, MinRedactions: fc.min, Limit: limit}
			for page := 1; page <= slices.Max(pages); page++ {
				if slices.Contains(pages, page) {
					out = append(out, benchCase{fmt.Sprintf("%s/%s/page=%d", scope.name, fc.name, page), f, (page - 1) * limit})
				}
				p, err := store.ListSessions(ctx, f)
				if err != nil {
					tb.Fatal(err)
				}
				if p.Next == nil {
					break
				}
				f.After = p.Next
			}
		}
	}
	return out
}

// contender is one way of reading a page; it returns the IDs of the page, in order.
type contender struct {
	name string
	read func(c benchCase) ([]string, error)
}

// run runs the contenders of each case alternately in one loop (each iteration reads the page
// once with each, starting with a different one each time), after checking that all of them
// read the same page. It reports each contender's µs per page and the first's ratio to each
// other.
func run(b *testing.B, cs []benchCase, contenders []contender) {
	for _, c := range cs {
		b.Run(c.name, func(b *testing.B) {
			want, err := contenders[0].read(c)
			if err != nil {
				b.Fatal(err)
			}
			for _, k := range contenders[1:] {
				got, err := k.read(c)
				if err != nil {
					b.Fatalf("%s: %v", k.name, err)
				}
				if !slices.Equal(want, got) {
					b.Fatalf("%s reads another page than %s: %v, want %v", k.name, contenders[0].name, got, want)
				}
			}
			total := make([]time.Duration, len(contenders))
			for i := 0; b.Loop(); i++ {
				for j := range contenders {
					k := (i + j) % len(contenders)
					begin := time.Now()
					if _, err := contenders[k].read(c); err != nil {
						b.Fatal(err)
					}
					total[k] += time.Since(begin)
				}
			}
			for k, t := range total {
				b.ReportMetric(float64(t.Microseconds())/float64(b.N), contenders[k].name+"-us")
				if k > 0 {
					b.ReportMetric(float64(total[0])/float64(t), "lib/"+contenders[k].name)
				}
			}
		})
	}
}

// ids returns the IDs of ss.
func ids(ss []sessions.Session) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

// rowIDs returns the IDs of the first limit rows of rs (a page and the one after it).
func rowIDs(rs []row) []string {
	out := make([]string, 0, min(len(rs), limit))
	for _, r := range rs[:min(len(rs), limit)] {
		out = append(out, r.ID)
	}
	return out
}

// predicate returns the WHERE clause of c's filter (without its cursor) as a user writes it by
// hand, with placeholders made by ph (1-based), and its arguments.
func predicate(c benchCase, ph func(int) string) (string, []any) {
	where := "account_id = " + ph(1)
	args := []any{c.f.AccountID}
	add := func(clause string, v any) {
		args = append(args, v)
		where += " AND " + fmt.Sprintf(clause, ph(len(args)))
	}
	if c.f.AgentID != "" {
		add("agent_id = %s", c.f.AgentID)
	}
	if c.f.Status != "" {
		add("status = %s", string(c.f.Status))
	}
	if c.f.MinRedactions > 0 {
		add("redaction_count >= %s", c.f.MinRedactions)
	}
	return where, args
}

// BenchmarkPeerPostgres compares, on PostgreSQL, ListSessions; the plain keyset query through
// pgx in its default mode (prepared statements), scanned into a struct; GORM with the keyset
// predicate written by hand; and GORM with OFFSET.
func BenchmarkPeerPostgres(b *testing.B) {
	ctx := context.Background()
	pool, schema := pgtest.NewSchema(b)
	store, err := postgres.New(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	benchdata.Load(b, store, size(b), 10_000)
	if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) sessions"); err != nil {
		b.Fatal(err)
	}
	dsn := pgtest.ServerURL(b) + "&search_path=" + schema
	gdb, err := gorm.Open(gormpostgres.Open(dsn), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		b.Fatal(err)
	}
	if db, err := gdb.DB(); err == nil {
		b.Cleanup(func() { db.Close() })
	}
	dollar := func(i int) string { return "$" + strconv.Itoa(i) }
	plain := func(c benchCase) ([]string, error) {
		where, args := predicate(c, dollar)
		if c.f.After != nil {
			where += fmt.Sprintf(" AND (started_at, id) < ($%d, $%d)", len(args)+1, len(args)+2)
			args = append(args, c.f.After.StartedAt, c.f.After.ID)
		}
		args = append(args, limit+1)
		rows, err := pool.Query(ctx, `SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
FROM sessions WHERE `+where+fmt.Sprintf(" ORDER BY started_at DESC, id DESC LIMIT $%d", len(args)), args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var rs []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.ID, &r.AccountID, &r.AgentID, &r.StartedAt, &r.EndedAt, &r.Status, &r.RedactionsByKind, &r.UpstreamModel); err != nil {
				return nil, err
			}
			rs = append(rs, r)
		}
		return rowIDs(rs), rows.Err()
	}
	question := func(int) string { return "?" }
	gormKeyset := func(c benchCase) ([]string, error) {
		where, args := predicate(c, question)
		q := gdb.Where(where, args...)
		if c.f.After != nil {
			q = q.Where("(started_at, id) < (?, ?)", c.f.After.StartedAt, c.f.After.ID)
		}
		var rs []row
		err := q.Order("started_at DESC, id DESC").Limit(limit + 1).Find(&rs).Error
		return rowIDs(rs), err
	}
	gormOffset := func(c benchCase) ([]string, error) {
		where, args := predicate(c, question)
		var rs []row
		err := gdb.Where(where, args...).Order("started_at DESC, id DESC").Offset(c.offset).Limit(limit + 1).Find(&rs).Error
		return rowIDs(rs), err
	}
	library := func(c benchCase) ([]string, error) {
		p, err := store.ListSessions(ctx, c.f)
		return ids(p.Sessions), err
	}
	run(b, cases(b, store), []contender{{"library", library}, {"plain", plain}, {"gorm-keyset", gormKeyset}, {"gorm-offset", gormOffset}})
}

// BenchmarkPeerSQLite compares, on SQLite, ListSessions; the plain keyset query as a prepared
// database/sql statement on modernc.org/sqlite, scanned into a struct; and GORM with OFFSET over
// the same modernc handle (gorm.io/driver/sqlite given the *sql.DB: its own cgo driver is not
// used).
func BenchmarkPeerSQLite(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "peer.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	benchdata.Load(b, store, size(b), 1000)
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	gdb, err := gorm.Open(gormsqlite.Dialector{Conn: db}, &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		b.Fatal(err)
	}
	stmts := map[string]*sql.Stmt{}
	b.Cleanup(func() {
		for _, s := range stmts {
			s.Close()
		}
	})
	question := func(int) string { return "?" }
	plain := func(c benchCase) ([]string, error) {
		where, args := predicate(c, question)
		if c.f.After != nil {
			where += " AND (started_at, id) < (?, ?)"
			args = append(args, c.f.After.StartedAt.UnixMilli(), c.f.After.ID)
		}
		query := `SELECT id, account_id, agent_id, started_at, ended_at, status, redactions_by_kind, upstream_model
FROM sessions WHERE ` + where + " ORDER BY started_at DESC, id DESC LIMIT ?"
		stmt, ok := stmts[query]
		if !ok {
			var err error
			if stmt, err = db.PrepareContext(ctx, query); err != nil {
				return nil, err
			}
			stmts[query] = stmt
		}
		rows, err := stmt.QueryContext(ctx, append(args, limit+1)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var rs []row
		for rows.Next() {
			var r row
			var started, ended int64
			if err := rows.Scan(&r.ID, &r.AccountID, &r.AgentID, &started, &ended, &r.Status, &r.RedactionsByKind, &r.UpstreamModel); err != nil {
				return nil, err
			}
			r.StartedAt, r.EndedAt = time.UnixMilli(started).UTC(), time.UnixMilli(ended).UTC()
			rs = append(rs, r)
		}
		return rowIDs(rs), rows.Err()
	}
	gormOffset := func(c benchCase) ([]string, error) {
		where, args := predicate(c, question)
		var rs []struct {
			ID               string
			AccountID        string
			AgentID          string
			StartedAt        int64
			EndedAt          int64
			Status           string
			RedactionsByKind kinds
			UpstreamModel    string
		}
		err := gdb.Table("sessions").Where(where, args...).Order("started_at DESC, id DESC").Offset(c.offset).Limit(limit + 1).Find(&rs).Error
		out := make([]string, 0, limit)
		for _, r := range rs[:min(len(rs), limit)] {
			out = append(out, r.ID)
		}
		return out, err
	}
	library := func(c benchCase) ([]string, error) {
		p, err := store.ListSessions(ctx, c.f)
		return ids(p.Sessions), err
	}
	run(b, cases(b, store), []contender{{"library", library}, {"plain", plain}, {"gorm-offset", gormOffset}})
}
