// Command server serves the sessions API of github.com/masker-dev/sessions from a SQLite file
// (the default) or a PostgreSQL database, with demo data on first start.
//
//	go run ./examples/server                       # SQLite in ./sessions.db, on 127.0.0.1:8080
//	go run ./examples/server -addr 127.0.0.1:9090 -db /tmp/demo.db
//	go run ./examples/server -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// On first start with an empty database it creates a demo account with a few agents and about
// 10,000 sessions over the last 30 days. It then prints a development cookie and curl commands
// on standard output, and logs one line per request on standard error. Sessions older than
// -retention are purged at start and then hourly. SIGINT or SIGTERM shut it down gracefully.
//
// The cursor key comes from -cursor-key or the environment variable SESSIONS_CURSOR_KEY (at least
// 32 bytes); without one, cursors do not survive a restart.
package main

import (
	"context"
	"crypto/rand"
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
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
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
	demo      int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.db, "db", "./sessions.db", "SQLite database file")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL connection URL; when set, -db is not used")
	retention := fs.String("retention", "90d", "purge sessions older than this (units s, m, h, d, w)")
	fs.StringVar(&o.cursorKey, "cursor-key", os.Getenv("SESSIONS_CURSOR_KEY"), "HMAC key for cursor tokens, at least 32 bytes (default $SESSIONS_CURSOR_KEY)")
	fs.IntVar(&o.demo, "demo-sessions", 10_000, "sessions to create on first start with an empty database")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
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

	cookie, err := randomHex(16)
	if err != nil {
		return err
	}
	var key []byte
	if o.cursorKey != "" {
		key = []byte(o.cursorKey)
	}
	api, err := httpapi.New(httpapi.Config{
		Store: st,
		Authenticate: httpapi.CookieAuth("masker_session", func(ctx context.Context, value string) (string, error) {
			if value != cookie {
				return "", httpapi.ErrUnauthenticated
			}
			return demoAccount, nil
		}),
		CursorKey: key,
		Logger:    logger,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(api, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	printWelcome(stdout, "http://"+ln.Addr().String(), cookie)
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
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// printWelcome prints the development cookie and ready-to-paste curl commands, each on a line
// of its own; the first lists the sessions of the busiest demo agent, the fourth summarizes its
// month and the fifth exports its week as CSV.
func printWelcome(w io.Writer, base, cookie string) {
	agent := demoAgents[0].ID
	fmt.Fprintf(w, "Development cookie (valid until this server stops): masker_session=%s\n", cookie)
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

// logRequests logs one line per request: method, path, status, duration and request ID.
func logRequests(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start).Round(time.Microsecond), "request_id", rec.Header().Get("X-Request-Id"))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
