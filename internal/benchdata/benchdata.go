// Package benchdata writes the realistic, reproducible data set that every benchmark of this
// module reads: one account, 1,000 agents with a skewed load (agent 0 is the busiest), statuses
// about 90% ok, 7% error and 3% partial, redaction counts skewed toward small numbers, and start
// times over 90 days on a 10-second grid, so that many sessions share a StartedAt.
//
// The size is 100,000 sessions unless the environment variable SESSIONS_BENCH_SIZE says
// otherwise (e.g. 1000000 or 10000000).
package benchdata

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/oklog/ulid/v2"
)

// Defaults of the data set.
const (
	DefaultSize = 100_000
	Agents      = 1_000
	Account     = "acct_bench"
	Window      = 90 * 24 * time.Hour
	Seed        = 1
)

// End is the newest possible StartedAt of the data set; sessions start in (End-Window, End].
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Size returns the number of sessions to generate: SESSIONS_BENCH_SIZE, or DefaultSize.
func Size() (int, error) {
	v := os.Getenv("SESSIONS_BENCH_SIZE")
	if v == "" {
		return DefaultSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("benchdata: SESSIONS_BENCH_SIZE=%q: want a positive whole number", v)
	}
	return n, nil
}

// AgentList returns the agents of the data set, the busiest first.
func AgentList() []sessions.Agent {
	rng := rand.New(rand.NewSource(Seed))
	out := make([]sessions.Agent, Agents)
	for i := range out {
		id := ulid.MustNew(ulid.Timestamp(End.Add(-Window)), rng)
		out[i] = sessions.Agent{ID: sessions.AgentIDPrefix + id.String(), AccountID: Account, Name: fmt.Sprintf("agent-%04d", i)}
	}
	return out
}

var kinds = []string{"NAME", "PHONE", "DOB", "ADDRESS", "EMAIL", "SSN", "MRN"}

var models = []string{"gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", ""}

// Generate makes n sessions of the agents of AgentList and passes them to put in batches of
// batch sessions, in a fixed order of random start times. It stops at put's first error.
func Generate(n, batch int, put func([]sessions.Session) error) error {
	agents := AgentList()
	rng := rand.New(rand.NewSource(Seed + 1))
	zipf := rand.NewZipf(rng, 1.1, 1, Agents-1)
	slots := int64(Window / (10 * time.Second))
	buf := make([]sessions.Session, 0, batch)
	for i := 0; i < n; i++ {
		started := End.Add(-time.Duration(rng.Int63n(slots)) * 10 * time.Second)
		id := sessionID(rng, started)
		buf = append(buf, session(rng, id, agents[zipf.Uint64()].ID, started))
		if len(buf) == batch || i == n-1 {
			if err := put(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// sessionID returns a new session ID of a session started at started, from rng.
func sessionID(rng *rand.Rand, started time.Time) string {
	return sessions.SessionIDPrefix + ulid.MustNew(ulid.Timestamp(started), rng).String()
}

// session returns a session of the data set with this ID, agent and start time: its end, status,
// redactions and model drawn from rng, in that order.
func session(rng *rand.Rand, id, agentID string, started time.Time) sessions.Session {
	return sessions.Session{
		ID:               id,
		AccountID:        Account,
		AgentID:          agentID,
		StartedAt:        started,
		EndedAt:          started.Add(time.Duration(2_000+rng.Intn(300_000)) * time.Millisecond),
		Status:           status(rng),
		RedactionsByKind: redactions(rng),
		UpstreamModel:    models[rng.Intn(len(models))],
	}
}

func status(rng *rand.Rand) sessions.Status {
	switch p := rng.Intn(100); {
	case p < 90:
		return sessions.StatusOK
	case p < 97:
		return sessions.StatusError
	}
	return sessions.StatusPartial
}

// redactions draws a few kinds with geometric counts: most sessions have 0 to 3 redactions,
// and a few have more than 10.
func redactions(rng *rand.Rand) map[string]int {
	m := map[string]int{}
	for _, k := range kinds {
		if rng.Intn(4) != 0 {
			continue
		}
		n := 1
		for rng.Intn(2) == 0 {
			n++
		}
		m[k] = n
	}
	return m
}
