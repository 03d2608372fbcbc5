package benchdata

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

// Load writes the agents (PutAgents) and n sessions of the data set into store, in batches of
// batch.
func Load(tb testing.TB, store sessions.Store, n, batch int) {
	tb.Helper()
	ctx := context.Background()
	PutAgents(tb, store)
	err := Generate(n, batch, func(ss []sessions.Session) error { return store.PutSessions(ctx, ss...) })
	if err != nil {
		tb.Fatal(err)
	}
}

// PutAgents writes the agents of the data set (AgentList) into store.
func PutAgents(tb testing.TB, store sessions.Store) {
	tb.Helper()
	for _, a := range AgentList() {
		if err := store.PutAgent(context.Background(), a); err != nil {
			tb.Fatal(err)
		}
	}
}

// Positions walks the whole list that f selects and returns the position of every session in
// it, in list order: Positions(...)[k*limit-1] is the cursor of page k+1 at that limit.
func Positions(tb testing.TB, store sessions.Store, f sessions.Filter) []sessions.Cursor {
	tb.Helper()
	f.Limit = sessions.MaxLimit
	var out []sessions.Cursor
	for {
		page, err := store.ListSessions(context.Background(), f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range page.Sessions {
			out = append(out, s.Cursor())
		}
		if page.Next == nil {
			return out
		}
		f.After = page.Next
	}
}

// PageCursor returns the cursor that starts page (1-based) of a list of the given positions at
// the given limit, or the start of the last page when the list is shorter. It returns nil for
// the first page.
func PageCursor(positions []sessions.Cursor, limit, page int) *sessions.Cursor {
	last := (len(positions) + limit - 1) / limit
	if page > last {
		page = last
	}
	if page <= 1 {
		return nil
	}
	c := positions[(page-1)*limit-1]
	return &c
}

// Case is one list query of the benchmarks.
type Case struct {
	Name   string
	Filter sessions.Filter
}

// Cases returns the list queries that every store is measured on: first page, page 1,000 and
// last page of the busiest agent at limits 25 and 100, the account-wide list, selective filters,
// and a one-hour window on an agent with 90 days of history. It walks the busiest agent's list
// once to find the deep cursors.
func Cases(tb testing.TB, store sessions.Store) []Case {
	tb.Helper()
	busy := AgentList()[0].ID
	agent := sessions.Filter{AccountID: Account, AgentID: busy}
	account := sessions.Filter{AccountID: Account}
	agentPos := Positions(tb, store, agent)
	var cases []Case
	for _, limit := range []int{25, 100} {
		for _, p := range []struct {
			name string
			page int
		}{{"first", 1}, {"page1000", 1000}, {"last", 1 << 30}} {
			f := agent
			f.Limit, f.After = limit, PageCursor(agentPos, limit, p.page)
			cases = append(cases, Case{fmt.Sprintf("agent/%s/limit=%d", p.name, limit), f})
		}
	}
	for _, p := range []struct {
		name string
		page int
	}{{"first", 1}, {"page1000", 1000}} {
		f := account
		f.Limit = 100
		if p.page > 1 {
			// The account list holds every session: the cursor of page 1,000 is the position of
			// the 99,999th session, which the busiest agent's positions let us find cheaply.
			f.After = deepAccountCursor(tb, store, account, 100, p.page)
		}
		cases = append(cases, Case{"account/" + p.name + "/limit=100", f})
	}
	for _, c := range []struct {
		name   string
		status sessions.Status
		min    int
	}{{"status=error", sessions.StatusError, 0}, {"min_redactions=5", "", 5}, {"status=error+min_redactions=5", sessions.StatusError, 5}} {
		f := agent
		f.Limit, f.Status, f.MinRedactions = 25, c.status, c.min
		cases = append(cases, Case{"agent/filter/" + c.name + "/limit=25", f})
	}
	f := agent
	f.Limit, f.Since = 25, End.Add(-time.Hour)
	cases = append(cases, Case{"agent/since=1h/limit=25", f})
	// Rare filters, as in the issue that measured them: status=partial with 15 or more
	// redactions (about 1 session in 9,000 of the data set; 4 of the busiest agent's 36,000 at
	// 200k), and a min_redactions that nothing reaches.
	for _, scope := range []struct {
		name string
		f    sessions.Filter
	}{{"agent", agent}, {"account", account}} {
		for _, c := range []struct {
			name   string
			status sessions.Status
			min    int
		}{{"status=partial+min_redactions=15", sessions.StatusPartial, 15}, {"min_redactions=1000000000", "", 1_000_000_000}} {
			f := scope.f
			f.Limit, f.Status, f.MinRedactions = 25, c.status, c.min
			cases = append(cases, Case{scope.name + "/rare/" + c.name + "/limit=25", f})
		}
	}
	return cases
}

func deepAccountCursor(tb testing.TB, store sessions.Store, f sessions.Filter, limit, page int) *sessions.Cursor {
	tb.Helper()
	f.Limit = limit
	var last *sessions.Cursor
	for i := 1; i < page; i++ {
		res, err := store.ListSessions(context.Background(), f)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Next == nil {
			break
		}
		last, f.After = res.Next, res.Next
	}
	return last
}

// RunList runs each case of Cases as a sub-benchmark of b, reporting rows/op.
func RunList(b *testing.B, store sessions.Store) {
	ctx := context.Background()
	for _, c := range Cases(b, store) {
		b.Run(c.Name, func(b *testing.B) {
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				page, err := store.ListSessions(ctx, c.Filter)
				if err != nil {
					b.Fatal(err)
				}
				rows += len(page.Sessions)
			}
			b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
		})
	}
}

// RunIngest measures PutSessions in batches of each size, on sessions newer than the data set
// so that they do not collide with it (IngestBatch), reporting sessions/s.
func RunIngest(b *testing.B, store sessions.Store, sizes ...int) {
	ctx := context.Background()
	agents := AgentList()
	for _, size := range sizes {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			var batch []sessions.Session
			written := 0
			for b.Loop() {
				b.StopTimer()
				batch = IngestBatch(batch, agents, written, size)
				b.StartTimer()
				if err := store.PutSessions(ctx, batch...); err != nil {
					b.Fatal(err)
				}
				written += size
			}
			b.ReportMetric(float64(written)/b.Elapsed().Seconds(), "sessions/s")
		})
	}
}

// IngestBatch returns dst[:0] with the size new sessions of the ingest benchmarks that follow
// the written first ones: one per agent of agents in turn, a millisecond apart from an hour after
// End, so newer than the data set, each of one minute, status ok and 3 redactions.
func IngestBatch(dst []sessions.Session, agents []sessions.Agent, written, size int) []sessions.Session {
	start := End.Add(time.Hour)
	dst = dst[:0]
	for i := range size {
		t := start.Add(time.Duration(written+i) * time.Millisecond)
		dst = append(dst, sessions.Session{
			ID: sessions.NewSessionID(t), AccountID: Account, AgentID: agents[(written+i)%len(agents)].ID,
			StartedAt: t, EndedAt: t.Add(time.Minute), Status: sessions.StatusOK,
			RedactionsByKind: map[string]int{"NAME": 1, "PHONE": 2},
			UpstreamModel:    "gpt-4o-mini",
		})
	}
	return dst
}

// DepthPages are the page numbers of the depth benchmarks, on the account-wide list at limit
// 100: page 1,000 is the last page of the default data set.
var DepthPages = []int{1, 10, 100, 1000}

// DepthLimit is the page size of the depth benchmarks.
const DepthLimit = 100

// RunKeysetDepth runs the sub-benchmarks "keyset/page=N" of the depth benchmarks: ListSessions
// on page N of the account-wide list, for each N of DepthPages. A store's OFFSET comparison runs
// beside it as "offset/page=N", so that internal/benchplot draws both.
func RunKeysetDepth(b *testing.B, store sessions.Store) {
	ctx := context.Background()
	account := sessions.Filter{AccountID: Account, Limit: DepthLimit}
	positions := Positions(b, store, account)
	for _, page := range DepthPages {
		f := account
		f.After = PageCursor(positions, DepthLimit, page)
		b.Run(fmt.Sprintf("keyset/page=%d", page), func(b *testing.B) {
			for b.Loop() {
				if _, err := store.ListSessions(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// RunPaired runs library and bare alternately in one loop, so that both see the same load of a
// shared machine, and reports each one's mean time and the ratio library/bare: the cost of a
// store's own code around its query.
func RunPaired(b *testing.B, library, bare func() error) {
	reportPaired(b, RunTurns(b, func() {}, library, bare))
}

// reportPaired reports the totals of RunTurns of a library (total[0]) and a bare query
// (total[1]): each one's mean time and the ratio library/bare.
func reportPaired(b *testing.B, total []time.Duration) {
	b.ReportMetric(float64(total[0].Microseconds())/float64(b.N), "library-us/op")
	b.ReportMetric(float64(total[1].Microseconds())/float64(b.N), "bare-us/op")
	b.ReportMetric(float64(total[0])/float64(total[1]), "library/bare")
}

// RunTurns runs each of contenders once per operation of b, after next, which readies the
// operation (its time is not counted), in an order that turns with every operation, so that all
// see the same load of a shared machine. It returns the total time of each contender.
func RunTurns(b *testing.B, next func(), contenders ...func() error) []time.Duration {
	total := make([]time.Duration, len(contenders))
	for i := 0; b.Loop(); i++ {
		next()
		for k := range contenders {
			c := (i + k) % len(contenders)
			begin := time.Now()
			if err := contenders[c](); err != nil {
				b.Fatal(err)
			}
			total[c] += time.Since(begin)
		}
	}
	return total
}

// ReportPeers reports the totals of RunTurns for the library (total[0]) and the peers named
// peers (total[1:]): each one's mean time, as name-us/op, and the library's rate as a fraction of
// each peer's, as library/name.
func ReportPeers(b *testing.B, total []time.Duration, peers ...string) {
	n := float64(b.N)
	b.ReportMetric(float64(total[0].Microseconds())/n, "library-us/op")
	for i, name := range peers {
		b.ReportMetric(float64(total[i+1].Microseconds())/n, name+"-us/op")
		b.ReportMetric(float64(total[i+1])/float64(total[0]), "library/"+name)
	}
}
