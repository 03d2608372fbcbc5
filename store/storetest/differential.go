package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/testscale"
)

// testDifferential writes hundreds of random sessions, thousands with the large data sets
// (several accounts and agents, many ties in StartedAt, times with fractions of a millisecond in
// several zones, zero counts, rewrites, renames) and walks tens of random filters, hundreds with
// the large data sets, to their end with random page sizes, comparing every page with the model.
func testDifferential(t *testing.T, h *harness) {
	seed := seed(t)
	g := &generator{rng: rand.New(rand.NewPCG(seed, 4))}
	nSessions, nFilters := testscale.Pick(500, 3000), testscale.Pick(60, 300)

	g.accounts = []string{"acme", "Acme", "globex-é"}
	g.agents = map[string][]sessions.Agent{}
	var active []sessions.Agent // agents that get sessions
	for _, acct := range g.accounts {
		for i := range 5 {
			a := h.newAgent(acct, []string{"", "Front desk", "Billing", "Night shift", "Idle"}[i])
			g.agents[acct] = append(g.agents[acct], a)
			if i < 4 {
				active = append(active, a)
			}
		}
	}
	// Few distinct instants, so that StartedAt ties often; and the edges of the time range.
	for range nSessions / 6 {
		g.instants = append(g.instants, base.Add(time.Duration(g.rng.Int64N(int64(6*time.Hour/time.Millisecond)))*time.Millisecond))
	}
	g.instants = append(g.instants, sessions.MinTime, sessions.MaxTime)

	var written []sessions.Session
	for len(written) < nSessions {
		batch := make([]sessions.Session, 1+g.rng.IntN(200))
		for i := range batch {
			batch[i] = g.session(active[g.rng.IntN(len(active))])
		}
		h.put(batch...)
		written = append(written, batch...)
	}
	// Rewrites of a tenth of the sessions, some repeated within their batch.
	for range 10 {
		var batch []sessions.Session
		for range nSessions / 100 {
			old := written[g.rng.IntN(len(written))]
			s := g.session(sessions.Agent{ID: old.AgentID, AccountID: old.AccountID})
			s.ID = old.ID
			if g.rng.IntN(3) == 0 {
				s.StartedAt, s.EndedAt = old.StartedAt, old.EndedAt
			}
			batch = append(batch, s)
			if g.rng.IntN(5) == 0 {
				s.Status = g.status()
				batch = append(batch, s)
			}
		}
		h.put(batch...)
	}
	// Renames.
	for _, acct := range g.accounts {
		a := g.agents[acct][g.rng.IntN(4)]
		a.Name = "Renamed " + a.Name
		h.putAgent(a)
	}
	t.Logf("%d sessions written, %d stored, in %d accounts", len(written), len(h.model.sessions), len(g.accounts))

	pages, listed := 0, 0
	for i := range nFilters {
		f, limits := g.filter()
		want := h.model.list(f)
		if len(want) > 300 && limits.small {
			limits = limitChooser{fixed: 10 + g.rng.IntN(91)}
		}
		if limits.rng != nil {
			// Its own source, so that -run can pick one filter and see the same pages.
			limits.rng = rand.New(rand.NewPCG(seed, 1000+uint64(i)))
		}
		ok := t.Run(fmt.Sprintf("filter %d", i), func(t *testing.T) {
			got := walkList(t, h.ctx, h.store, f, func() int { pages++; return limits.next() }, want)
			listed += len(got)
		})
		if !ok {
			break
		}
	}
	t.Logf("%d filters, %d pages, %d sessions listed", nFilters, pages, listed)
}

// generator makes random sessions and filters for testDifferential.
type generator struct {
	rng      *rand.Rand
	accounts []string
	agents   map[string][]sessions.Agent // by account; the last one of each has no sessions
	instants []time.Time
}

var (
	genZones  = []*time.Location{time.UTC, zoneIST, zonePST, zoneNPT}
	genKinds  = []string{"PHONE", "NAME", "DOB", "SSN", "EMAIL", "ADDRESS", "MRN_2"}
	genModels = []string{"", "gpt-4o-mini", "claude-3-5-sonnet", "llama 3 70b"}
)

func (g *generator) status() sessions.Status {
	return []sessions.Status{sessions.StatusOK, sessions.StatusOK, sessions.StatusError, sessions.StatusPartial}[g.rng.IntN(4)]
}

// instant returns one of the instants, often with a fraction of a millisecond, in a random zone.
func (g *generator) instant() time.Time {
	t := g.instants[g.rng.IntN(len(g.instants))]
	if !t.Equal(sessions.MaxTime) && g.rng.IntN(2) == 0 {
		t = t.Add(time.Duration(g.rng.IntN(int(time.Millisecond))))
	}
	return t.In(genZones[g.rng.IntN(len(genZones))])
}

func (g *generator) session(a sessions.Agent) sessions.Session {
	start := g.instant()
	end := start.Add(time.Duration(g.rng.Int64N(int64(10 * time.Minute))))
	if end.After(sessions.MaxTime) {
		end = sessions.MaxTime
	}
	var kinds map[string]int
	switch g.rng.IntN(6) {
	case 0: // nil
	case 1:
		kinds = map[string]int{}
	default:
		kinds = map[string]int{}
		for range 1 + g.rng.IntN(4) {
			kinds[genKinds[g.rng.IntN(len(genKinds))]] = g.rng.IntN(4) // zero a quarter of the time
		}
	}
	s := sessions.Session{
		// An ID whose order is unrelated to StartedAt.
		ID:               randomSessionID(g.rng),
		AccountID:        a.AccountID,
		AgentID:          a.ID,
		StartedAt:        start,
		EndedAt:          end.In(genZones[g.rng.IntN(len(genZones))]),
		Status:           g.status(),
		RedactionsByKind: kinds,
		UpstreamModel:    genModels[g.rng.IntN(len(genModels))],
	}
	if g.rng.IntN(4) == 0 {
		s.AgentName = "ignored"
	}
	return s
}

// bound returns a random filter bound: an instant, or now and then one far outside the range of
// stored times.
func (g *generator) bound() time.Time {
	switch g.rng.IntN(20) {
	case 0:
		return time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	case 1:
		return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return g.instant()
}

func (g *generator) filter() (sessions.Filter, limitChooser) {
	f := sessions.Filter{AccountID: g.accounts[g.rng.IntN(len(g.accounts))]}
	if g.rng.IntN(20) == 0 {
		f.AccountID = "initech"
	}
	own := g.agents[f.AccountID]
	switch r := g.rng.IntN(20); {
	case r < 10:
	case r < 17 && len(own) > 0:
		f.AgentID = own[g.rng.IntN(len(own))].ID
	case r < 19:
		other := g.agents[g.accounts[g.rng.IntN(len(g.accounts))]]
		f.AgentID = other[g.rng.IntN(len(other))].ID
	default:
		f.AgentID = sessions.NewAgentID()
	}
	if g.rng.IntN(2) == 0 {
		f.Since = g.bound()
	}
	if g.rng.IntN(2) == 0 {
		f.Until = g.bound()
		if g.rng.IntN(10) == 0 && !f.Since.IsZero() {
			f.Until = f.Since
		}
	}
	if !f.Since.IsZero() && f.Until.Before(f.Since) && !f.Until.IsZero() {
		f.Since, f.Until = f.Until, f.Since
	}
	if g.rng.IntN(2) == 0 {
		f.Status = g.status()
	}
	switch r := g.rng.IntN(20); {
	case r < 10:
	case r < 19:
		f.MinRedactions = g.rng.IntN(9)
	default:
		f.MinRedactions = 1 << 40
	}
	if g.rng.IntN(6) == 0 {
		c := sessions.Cursor{StartedAt: g.bound()}
		switch g.rng.IntN(4) {
		case 0: // no ID
		case 1:
			c.ID = randomSessionID(g.rng)
		default:
			c.StartedAt = sessions.Millis(c.StartedAt)
			c.ID = randomSessionID(g.rng)
		}
		f.After = &c
	}

	var l limitChooser
	switch r := g.rng.IntN(10); {
	case r < 3: // the default
	case r < 6:
		l.fixed = 1 + g.rng.IntN(sessions.MaxLimit)
	case r < 7:
		l.fixed = 1 + g.rng.IntN(5)
		l.small = true
	default:
		l.rng = g.rng // a new size for every page
	}
	if l.rng == nil {
		f.Limit = l.fixed
	}
	return f, l
}

// limitChooser gives the page sizes of a walk: a fixed one (0 is the default), or a random one
// for each page.
type limitChooser struct {
	fixed int
	small bool // fixed is small: too many pages for a long list
	rng   *rand.Rand
}

func (l limitChooser) next() int {
	if l.rng == nil {
		return l.fixed
	}
	if l.rng.IntN(5) == 0 {
		return 0
	}
	return 1 + l.rng.IntN(sessions.MaxLimit)
}
