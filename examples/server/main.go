// Command server serves the sessions API of github.com/masker-dev/sessions from a SQLite file
// (the default) or a PostgreSQL database, with demo data on first start.
//
//	go run ./examples/server                       # SQLite in ./sessions.db, on 127.0.0.1:8080
//	go run ./examples/server -addr 127.0.0.1:9090 -db /tmp/demo.db
//	go run ./examples/server -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// On first start with an empty database it creates a demo account with a few agents and about
// 10,000 sessions over the last 30 days. It then prints a development cookie, a read-only bearer
// token (-token or SESSIONS_TOKEN, else a random one) and curl commands on standard output, and
// logs one line per request on standard error; the curl command with -N follows the live tail.
// While it runs, it records a new demo call every -record-every (3s by default), so that the tail
// moves. Sessions older than -retention are purged at start and then hourly. SIGINT or SIGTERM
// shut it down gracefully, ending open streams at once.
//
// The cursor key comes from -cursor-key or the environment variable SESSIONS_CURSOR_KEY (at least
// 32 bytes); without one, cursors do not survive a restart.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/httpapi"
	"github.com/masker-dev/sessions/store/postgres"
	"github.com/masker-dev/sessions/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // -h: the usage is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	addr      string
	db        string
	postgres  string
	retention time.Duration
	cursorKey string
	token     string
	demo      int
	record    time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.db, "db", "./sessions.db", "SQLite database file")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL connection URL; when set, -db is not used")
	retention := fs.String("retention", "90d", "purge sessions older than this (units s, m, h, d, w)")
	// The secrets' defaults are read after Parse, so that -h does not print them.
	fs.StringVar(&o.cursorKey, "cursor-key", "", "key of cursor and resume tokens, at least 32 bytes (default $SESSIONS_CURSOR_KEY)")
	fs.StringVar(&o.token, "token", "", "bearer token that may read the demo account's sessions (scope sessions:read); default $SESSIONS_TOKEN, or a random one printed at start")
	fs.IntVar(&o.demo, "demo-sessions", 10_000, "sessions to create on first start with an empty database")
	fs.DurationVar(&o.record, "record-every", 3*time.Second, "record a new demo call at this interval, for the live tail; 0: never")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.cursorKey == "" {
		o.cursorKey = os.Getenv("SESSIONS_CURSOR_KEY")
	}
	if o.token == "" {
		o.token = os.Getenv("SESSIONS_TOKEN")
	}
	d, err := sessions.ParseDuration(*retention)
	if err != nil {
		return o, fmt.Errorf("-retention: %w", err)
	}
	o.retention = d
	return o, nil
}

// store is what the server needs of a store: the Store and its retention.
type store interface {
	sessions.Store
	sessions.Purger
}

func openStore(ctx context.Context, o options) (store, string, error) {
	if o.postgres != "" {
		s, err := postgres.Open(ctx, o.postgres)
		return s, "PostgreSQL", err
	}
	s, err := sqlite.Open(ctx, o.db)
	return s, "SQLite " + o.db, err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// The address first: a port in use fails before anything is written to the store.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	st, where, err := openStore(ctx, o)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	logger.Info("store open", "store", where)

	if err := seedDemo(ctx, st, o.demo, time.Now(), logger); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	go purgeEvery(ctx, st, o.retention, time.Hour, logger)
	if o.record > 0 {
		go recordEvery(ctx, st, o.record, logger)
	}

	cookie, err := randomHex(16)
	if err != nil {
		return err
	}
	var key []byte
	if o.cursorKey != "" {
		key = []byte(o.cursorKey)
	}
	token := o.token
	if token == "" {
		if token, err = randomHex(16); err != nil {
			return err
		}
		token = "sessions_read_" + token
	}
	api, err := httpapi.New(httpapi.Config{
		Store:        st,
		Authenticate: demoAuth(cookie, token),
		CursorKey:    key,
		Logger:       logger,
	})
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           api, // httpapi logs one access line per request through Config.Logger
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	// Shutdown waits for every handler to return: end the live-tail streams at once (their
	// clients resume with Last-Event-ID). Each write of a stream sets its own write deadline,
	// so WriteTimeout does not cut it.
	srv.RegisterOnShutdown(api.CloseStreams)
	printWelcome(stdout, "http://"+ln.Addr().String(), cookie, token)
	logger.Info("listening", "addr", ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// Requests still running after 10 s (a long export): cut them, as a deploy would.
		logger.Warn("requests still running after 10 s: closing their connections", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printWelcome prints the development cookie and ready-to-paste curl commands, each on a line
// of its own; the first lists the sessions of the busiest demo agent, the fourth summarizes its
// month, the fifth exports its week as CSV, and the seventh follows the account's live tail.
func printWelcome(w io.Writer, base, cookie, token string) {
	agent := demoAgents[0].ID
	fmt.Fprintf(w, "Development cookie (valid until this server stops): masker_session=%s\n", cookie)
	fmt.Fprintf(w, "Read-only bearer token (scope sessions:read): %s\n", token)
	fmt.Fprintln(w, "Try:")
	for _, path := range []string{
		"/api/v1/agents/" + agent + "/sessions?since=7d&limit=5",
		"/api/v1/agents/" + agent + "/sessions?since=30d&status=error&min_redactions=3&limit=5",
		"/api/v1/sessions?since=24h&limit=5",
		"/api/v1/agents/" + agent + "/sessions/summary?since=30d",
		"/api/v1/agents/" + agent + "/sessions/export?since=7d&format=csv",
		"/api/v1/openapi.yaml",
	} {
		fmt.Fprintf(w, "curl -sS -H 'Cookie: masker_session=%s' '%s%s'\n", cookie, base, path)
	}
	fmt.Fprintf(w, "curl -N -sS -H 'Cookie: masker_session=%s' '%s/api/v1/sessions/stream'\n", cookie, base)
	fmt.Fprintln(w, "Or with the token, and the command-line tool:")
	fmt.Fprintf(w, "curl -sS -H 'Authorization: Bearer %s' '%s/api/v1/sessions?since=1h&limit=5'\n", token, base)
	fmt.Fprintf(w, "SESSIONS_URL=%s SESSIONS_TOKEN=%s go run ./cmd/sessions list --since 7d --limit 10\n", base, token)
}

// demoAuth accepts the development cookie, and the bearer token, which may read the demo
// account's sessions: a production verify would check the token's signature or look it up, and
// require its scope sessions:read. A request with an Authorization header is checked as a bearer
// token, any other as a cookie.
func demoAuth(cookie, token string) func(*http.Request) (string, error) {
	byCookie := httpapi.CookieAuth("masker_session", func(ctx context.Context, value string) (string, error) {
		if subtle.ConstantTimeCompare([]byte(value), []byte(cookie)) != 1 {
			return "", httpapi.ErrUnauthenticated
		}
		return demoAccount, nil
	})
	byToken := httpapi.BearerAuth(func(ctx context.Context, value string) (string, error) {
		if subtle.ConstantTimeCompare([]byte(value), []byte(token)) != 1 {
			return "", httpapi.ErrUnauthenticated
		}
		return demoAccount, nil
	})
	return func(r *http.Request) (string, error) {
		if r.Header.Get("Authorization") != "" {
			return byToken(r)
		}
		return byCookie(r)
	}
}

// purgeEvery purges sessions older than retention now, and then at every interval until ctx
// ends, logging how many went.
func purgeEvery(ctx context.Context, st sessions.Purger, retention, interval time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		before := time.Now().Add(-retention)
		n, err := st.PurgeSessions(ctx, before)
		if err != nil && ctx.Err() == nil {
			logger.Error("retention purge", "before", before, "deleted", n, "err", err)
		} else if err == nil {
			logger.Info("retention purge", "before", before.Format(time.RFC3339), "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
