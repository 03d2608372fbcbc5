// Package outagetest holds the outage test of the PostgreSQL store behind the HTTP API: a private
// PostgreSQL cluster, started for the test in a temporary directory on a free port, is stopped
// with pg_ctl stop -m immediate under load from concurrent clients and started again. Clients
// must get 503 with Retry-After from the API and sessions.ErrUnavailable from PutSessions while
// it is down, full service afterwards from the same store without reopening it, and every write
// that was acknowledged must be there in the end.
//
// The cluster is the test's own, so that stopping it disturbs no other test using the shared
// server of SESSIONS_TEST_POSTGRES_URL. The test needs initdb and pg_ctl (on PATH or under
// /usr/lib/postgresql/*/bin) and, when run as root, the postgres OS user to run them as. Without
// them it skips and says why; with CI=true and initdb present it must run. It has no code
// outside its tests.
package outagetest
