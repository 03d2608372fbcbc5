// Package peerbench measures the session list of the library against what a user would write
// instead, on the same data loaded the same way, in one alternating loop: on PostgreSQL, the
// library, the plain keyset query through pgx (the limit), GORM with a hand-written keyset
// predicate, and GORM with OFFSET; on SQLite, the library, the plain keyset query as a prepared
// database/sql statement on modernc.org/sqlite, and GORM with OFFSET. It lives in the compat
// module so that GORM never enters the library's go.mod.
//
// Run it with
//
//	cd compat && SESSIONS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	go test -run '^$' -bench . -benchtime 200x ./peerbench
//
// on 20,000 sessions of the library's benchmark data set (internal/benchdata), or on more with
// SESSIONS_BENCH_SIZE=200000. Pages that the data set does not reach are left out. Each
// sub-benchmark reports every contender's µs per page and the library's ratio to the others.
package peerbench
