// Package testscale sizes the data sets of this module's tests. By default they are small, so
// that the README's test command (go test -race ./...) gives feedback in a minute or two on a
// laptop: the race detector, and the pointer checks it turns on, make the pure-Go SQLite of
// modernc.org/sqlite 15–20 times slower than without them, and each rule that the tests check
// holds as well on a few hundred rows as on thousands. With SESSIONS_TEST_LARGE=1 the tests use
// the large data sets: batches that cross every statement and purge batch of the stores at their
// default sizes, thousands of sessions and hundreds of filters in the randomized comparisons.
// CI runs both.
package testscale

import "os"

// Env is the environment variable that selects the large data sets when set to 1.
const Env = "SESSIONS_TEST_LARGE"

// Large reports whether the tests use the large data sets.
func Large() bool {
	return os.Getenv(Env) == "1"
}

// Pick returns large when the tests use the large data sets, and small otherwise.
func Pick(small, large int) int {
	if Large() {
		return large
	}
	return small
}
