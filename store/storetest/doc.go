// Package storetest is the conformance suite of [sessions.Store]: one exported function, [Run],
// that checks every rule the contract of package sessions sets for a store, in one subtest per
// rule. The stores of this module (store/memory, store/sqlite, store/postgres) run it, and so
// should a store written elsewhere, for instance on another database.
//
// # Using it
//
// A store's test file calls Run with a function that opens a fresh, empty store:
//
//	package mystore_test
//
//	import (
//		"path/filepath"
//		"testing"
//
//		"github.com/masker-dev/sessions"
//		"github.com/masker-dev/sessions/store/storetest"
//		"example.com/mystore"
//	)
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) sessions.Store {
//			s, err := mystore.Open(t.Context(), filepath.Join(t.TempDir(), "sessions.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() {
//				if err := s.Close(); err != nil {
//					t.Error(err)
//				}
//			})
//			return s
//		})
//	}
//
// Run calls open once for each rule's subtest (some rules open a few stores, one per case), with
// that subtest's t. The rules' subtests run in parallel (t.Parallel; at most -test.parallel at
// once, GOMAXPROCS by default), each on its own store, so open must be safe to call from several
// goroutines at once. Every store that open returns must be new and empty: no agents, no sessions,
// shared with nothing else. A store over a server database can get this from a new schema or
// database per call. When the database is not available, open calls t.Skip with the reason.
//
// The open function owns the store: it arranges to close it with t.Cleanup, as above, and Run
// never calls Close. Cleanups run last-in first-out, so a store closed by a cleanup registered
// after t.TempDir is closed before its directory is removed.
//
// # Optional capabilities
//
// The optional capabilities of package sessions are small interfaces that a store may
// implement besides [sessions.Store]: [sessions.Purger] (retention), [sessions.Tailer] (the live
// feed of writes), [sessions.Summarizer] (totals over a window) and [sessions.Scanner] (the
// batches of an export). Run checks the rules of each one that the store implements, in subtests
// of their own ("Purge", "Tail", "Summary" and "Scan"), and skips those subtests, saying which
// interface the store lacks, when it does not. A store that
// implements only [sessions.Store] passes Run. Every store of this module implements them all.
//
// # What it checks
//
// The subtests of Run are named after the rules of the contract ("Order", "NextNilExactlyAtEnd",
// "WalkDuringWrites", "AtomicBatch", "SessionValidation", "Upsert", "Conflict", "AgentNotFound",
// "PutAgent", "AgentName", "Normalization", "FilterValidation", "Context", "TenantIsolation"),
// followed by "Differential": a randomized comparison of hundreds of sessions and tens of
// filters (thousands and hundreds with the large data sets), each walked to its end with random
// page sizes, against a brute-force model built on [sessions.Filter.Match] and
// [sessions.Cursor.Before]. The model is the suite's definition of a correct answer: it mirrors
// every successful write, and every page a store returns is compared with it using go-cmp,
// AgentName and normalization included.
//
// "RareFilters" writes thousands of sessions and walks filters that match one of them, none, or
// a few scattered ones, over the account and each agent, in a window, and from positions inside
// it: the filters that a store may answer by another path than a walk of its list.
// "RareFilterDuringUpserts" reads such pages while a writer moves sessions in and out of them:
// each page holds only sessions that match, each once.
//
// Beyond the model, every page must have the form that all stores share, so that what one store
// returns compares equal (go-cmp) to what another returns for the same writes: times in UTC whole
// milliseconds, RedactionsByKind never nil and without zero counts, and Sessions an empty, non-nil
// slice on an empty page, as [sessions.NewPage] makes.
//
// The randomized subtests use a fixed seed, which a failing test prints. Set the environment
// variable STORETEST_SEED to a number to use another seed, or to "random" for a new one on each
// run. Each filter of "Differential" is its own subtest, so that one can be run again alone with
// the same seed, as in -run 'TestConformance/Differential/filter_17'.
//
// # Data sizes
//
// By default the randomized and bulk subtests write small data sets (hundreds to a few
// thousand sessions, tens of filters), so that the suite runs in seconds even under the race
// detector, which makes a pure-Go database many times slower. Each rule holds as well on them.
// Set the environment variable SESSIONS_TEST_LARGE=1 for the large ones: "Differential" with
// 3,000 sessions and 300 filters, "RareFilters" with one match in 20,000 sessions, a batch of
// 5,000 sessions in "AtomicBatch", 7,000 sessions purged in one call in "Purge", and more
// rounds and writers in "Summary" and "Tail". The large data sets cross the default batch
// sizes of this module's stores, except the 10,000 sessions of one SQLite statement; with the
// small ones, a store crosses its batches only if its test lowers them (the tests of this
// module's SQLite and PostgreSQL stores do). CI runs both.
//
// Run does not measure time: that a page costs an index seek plus the rows it returns, and that
// PurgeSessions never blocks writers for long, are for a store's benchmarks to show. Run checks
// what can be seen from outside: results, errors, and data left unchanged after a failed call.
// It uses no sleeps and keeps its goroutines to the subtest that starts them.
package storetest
