// Command sessions reads the sessions API from a terminal or a script: the calls that AI voice
// agents handled, with the protected health information redacted in each.
//
// Usage:
//
//	sessions [flags] list    [--agent ID] [--since 24h] [--until T] [--status S] [--min-redactions N] [--limit N] [--format table|json|csv]
//	sessions [flags] show    ID [--format table|json]
//	sessions [flags] tail    [--agent ID] [--status S] [--min-redactions N] [--from EVENT_ID] [--format table|json]
//	sessions [flags] summary [--agent ID] [--since 24h] [--until T] [--status S] [--min-redactions N] [--format table|json]
//	sessions [flags] export  [--agent ID] [--since 24h] [--until T] [--status S] [--min-redactions N] [--format csv|ndjson] [--output FILE]
//
// The server and the credential come from flags, which every command accepts, or from the
// environment (a flag wins):
//
//	--url URL        SESSIONS_URL     the server, under which /api/v1 is mounted (default http://127.0.0.1:8080)
//	--token TOKEN    SESSIONS_TOKEN   a bearer token (for example one scoped to sessions:read)
//	--cookie VALUE   SESSIONS_COOKIE  the product's session cookie: masker_session=VALUE, or VALUE alone
//	                                  (taken whole, '=' padding and all, unless it starts with masker_session=)
//
// Since and until take a duration back from now (90m, 36h, 7d, 2w, 1d12h) or a timestamp
// (2026-05-03, 2026-05-03T21:14:32Z). The table fits 80 columns and shows redactions as people
// read them: "2 NAME, 1 PHONE". `list --format csv` and `export` write the server's CSV export.
// `export` shows a progress bar on stderr when stderr is a terminal. `tail` prints each session
// as it is recorded, and resumes after a dropped connection without printing anything twice; a
// later tail resumes after the last event with --from (the ID that --format json prints).
//
// The connection flags go before the command (sessions --url URL list) or after it (sessions
// list --url URL); after it, they override. Errors are one line on stderr, with the request ID
// when the server gave one; a usage error ends with "(run 'sessions help' for usage)". Exit
// codes:
//
//	0  success
//	1  any other error (an internal error of the server, a file not written)
//	2  usage: a bad command, flag or parameter (the server's 422 too)
//	3  authentication: no credential, or the server refused it (401)
//	4  not found: an unknown session or agent (404)
//	5  unavailable: the server cannot be reached, is down, answers nothing (about a minute), or
//	   limits the account (502, 503, 504, 429); a transfer cut midway (no file is then written)
//	130  interrupted: Ctrl-C (SIGINT) ended the command, "sessions: interrupted" on stderr; this
//	     is how a tail ends, after printing what it received
//	143  terminated: SIGTERM (kill, timeout, a service manager) ended the command, as Ctrl-C does
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// Exit codes; see the package documentation.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitAuth        = 3
	exitNotFound    = 4
	exitUnavailable = 5
	exitInterrupted = 130 // 128 + SIGINT, as shells report a command that Ctrl-C ended
	exitTerminated  = 143 // 128 + SIGTERM
)

// errTerminated is the cause of ctx's end when SIGTERM ended the command.
var errTerminated = errors.New("terminated")

func main() {
	// Ctrl-C and SIGTERM cancel ctx: the command stops as it does at any cancellation (an export
	// removes its unfinished file), and exits 130 or 143.
	ctx, cancel := context.WithCancelCause(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		var cause error // context.Canceled
		if <-signals == syscall.SIGTERM {
			cause = errTerminated
		}
		cancel(cause)
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	signal.Stop(signals)
	os.Exit(code)
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run runs the command line args and returns the exit code. It writes errors to stderr as one
// line each.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdout, stderr)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usage) // asked for: sessions help | less
		return exitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		if context.Cause(ctx) == errTerminated {
			fmt.Fprintln(stderr, "sessions: terminated")
			return exitTerminated
		}
		fmt.Fprintln(stderr, "sessions: interrupted")
		return exitInterrupted
	}
	msg := oneLine(message(err))
	var ue *usageError
	if errors.As(err, &ue) {
		msg += " (run 'sessions help' for usage)"
	}
	fmt.Fprintln(stderr, "sessions: "+msg)
	return exitCode(err)
}

// exitCode maps an error to its exit code.
func exitCode(err error) int {
	var ue *usageError
	var ve *sessions.ValidationError
	switch {
	case errors.As(err, &ue), errors.As(err, &ve):
		return exitUsage
	case errors.Is(err, client.ErrUnauthenticated):
		return exitAuth
	case errors.Is(err, sessions.ErrSessionNotFound), errors.Is(err, sessions.ErrAgentNotFound):
		return exitNotFound
	case errors.Is(err, sessions.ErrUnavailable), errors.Is(err, client.ErrRateLimited):
		return exitUnavailable
	}
	return exitError
}

// message returns what the user reads of err: the server's message with its details and request
// ID, or the error's text.
func message(err error) string {
	var e *client.Error
	if !errors.As(err, &e) {
		return strings.TrimPrefix(err.Error(), "client: ")
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for i, d := range e.Details {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", d.Param, d.Message)
	}
	fmt.Fprintf(&b, " (HTTP %d %s", e.StatusCode, e.Code)
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request %s", e.RequestID)
	}
	b.WriteString(")")
	if e.StatusCode == http.StatusNotFound && e.Code != "agent_not_found" && e.Code != "session_not_found" {
		b.WriteString(": the server has no such route; is --url the address under which the API's /api/v1 routes are mounted?")
	}
	return b.String()
}

// oneLine replaces line breaks and every other unprintable character (a server's escape
// sequences) with spaces, so that an error is one line that does not drive the terminal.
func oneLine(s string) string {
	return printable(strings.ReplaceAll(s, "\r\n", " "))
}

// errHelp asks for the usage text.
var errHelp = errors.New("help")

const usage = `Usage: sessions [--url URL] [--token TOKEN | --cookie VALUE] COMMAND [flags]

Commands:
  list      list sessions, newest first       [--limit N (table, json)] [--format table|json|csv]
  show ID   show one session                  [--format table|json]
  tail      print sessions as they are recorded [--from EVENT_ID] [--format table|json]
  summary   totals over a window              [--format table|json]
  export    write every session to a file     [--format csv|ndjson] [--output FILE]

Filters (every command but show; tail takes no window):
  --agent ID  --since 24h|7d|2026-05-03  --until T  --status ok|error|partial  --min-redactions N

Server and credential (flags, or the environment):
  --url URL        SESSIONS_URL     default http://127.0.0.1:8080
  --token TOKEN    SESSIONS_TOKEN   a bearer token
  --cookie VALUE   SESSIONS_COOKIE  masker_session=VALUE, or VALUE

Exit codes: 0 ok, 1 error, 2 usage, 3 authentication, 4 not found, 5 unavailable,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
`
