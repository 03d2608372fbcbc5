package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// command is what every subcommand parses: the connection, the filters it takes, and its format.
type command struct {
	globals
	name   string
	fs     *flag.FlagSet
	query  client.Query
	status string
	format string
}

// globals are the connection flags given before the command (sessions --url X list), over the
// environment's; a subcommand's own --url, --token and --cookie override them.
type globals struct {
	url, token, cookie  string
	tokenSet, cookieSet bool // given as a flag, before or after the command, not by the environment
}

// connectionFlags adds --url, --token and --cookie to fs, into g, with g's values as defaults. A
// credential given as a flag replaces the other kind's from the environment: only two flags, or
// two variables, are a conflict.
func connectionFlags(fs *flag.FlagSet, g *globals) {
	fs.StringVar(&g.url, "url", g.url, "the server")
	fs.Func("token", "a bearer token", func(v string) error {
		g.token, g.tokenSet = v, true
		if !g.cookieSet {
			g.cookie = ""
		}
		return nil
	})
	fs.Func("cookie", "the session cookie", func(v string) error {
		g.cookie, g.cookieSet = v, true
		if !g.tokenSet {
			g.token = ""
		}
		return nil
	})
}

// parseGlobals parses the flags before the command, over the environment, and returns them with
// the command and its arguments.
func parseGlobals(args []string, getenv func(string) string) (globals, []string, error) {
	g := globals{url: or(getenv("SESSIONS_URL"), "http://127.0.0.1:8080"), token: getenv("SESSIONS_TOKEN"), cookie: getenv("SESSIONS_COOKIE")}
	fs := flag.NewFlagSet("sessions", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	connectionFlags(fs, &g)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return g, nil, errHelp
		}
		return g, nil, usagef("%v", err)
	}
	return g, fs.Args(), nil
}

// newCommand makes the flag set of a subcommand with the connection flags (their defaults from
// g), the filters when filters is true (the window too when window is true), and --format with
// its choices.
func newCommand(name string, g globals, filters, window bool, formats ...string) *command {
	c := &command{globals: g, name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.fs.SetOutput(io.Discard)
	connectionFlags(c.fs, &c.globals)
	if filters {
		// An empty --agent (--agent "$AGENT" with the variable unset) is refused, not taken as
		// every agent: the API answers agent_id= with 422, so that no typo widens an audit.
		c.fs.Func("agent", "an agent ID", func(v string) error {
			if v == "" {
				return errors.New("want an agent ID; leave --agent out for every agent of the account")
			}
			c.query.AgentID = v
			return nil
		})
		c.fs.StringVar(&c.status, "status", "", "ok, error or partial")
		decimalFlag(c.fs, &c.query.MinRedactions, "min-redactions", "at least this many redactions")
	}
	if window {
		c.fs.StringVar(&c.query.Since, "since", "", "a duration back from now, or a timestamp")
		c.fs.StringVar(&c.query.Until, "until", "", "a duration back from now, or a timestamp")
	}
	if len(formats) > 0 {
		c.fs.StringVar(&c.format, "format", formats[0], strings.Join(formats, ", "))
	}
	return c
}

// decimalFlag adds an integer flag read in base 10, as the API reads its parameters: flag.Int
// reads 010 as 8 and 0x10 as 16, and sent min_redactions=8 for --min-redactions 010.
func decimalFlag(fs *flag.FlagSet, p *int, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
		return nil
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// parse parses args, with flags before and after the positional arguments, which it returns.
func (c *command) parse(args []string, formats ...string) ([]string, error) {
	var positional []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usagef("%s: %v", c.name, err)
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	c.query.Status = sessions.Status(c.status)
	if len(formats) > 0 && !contains(formats, c.format) {
		return nil, usagef("%s: --format %q: want %s", c.name, c.format, strings.Join(formats, ", "))
	}
	return positional, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// client returns the client of the command's server and credential, with the extra options.
func (c *command) client(extra ...client.Option) (*client.Client, error) {
	opts := extra
	switch {
	case c.token != "" && c.cookie != "":
		return nil, usagef("give a token or a cookie, not both")
	case c.token != "":
		opts = append(opts, client.WithBearerToken(c.token))
	case c.cookie != "":
		opts = append(opts, client.WithCookie(cookieName, strings.TrimPrefix(c.cookie, cookieName+"=")))
	default:
		return nil, &authError{"no credential: give --token or --cookie, or set SESSIONS_TOKEN or SESSIONS_COOKIE"}
	}
	cl, err := client.New(c.url, append(opts, client.WithUserAgent("sessions-cli"), client.WithHTTPClient(httpClient))...)
	if err != nil {
		return nil, usagef("--url: %v", strings.TrimPrefix(err.Error(), "client: "))
	}
	return cl, nil
}

// httpClient is the HTTP client of the commands: a server that accepts the connection and then
// answers nothing (stopped, or a proxy's dead upstream) fails each try after responseWait, and
// the command, after the client's retries (4 tries: about a minute), as an unavailable server
// (exit 5), rather than hang it. A response's body has no such bound: an
// export or a tail may run for as long as it streams (the tail has its own idle timeout).
var httpClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: responseWait,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          10,
	IdleConnTimeout:       90 * time.Second,
}}

// responseWait is how long a command waits for the status line of a response.
const responseWait = 15 * time.Second

// cookieName is the product's session cookie. --cookie takes "masker_session=VALUE" or VALUE
// alone; a value is taken whole even when it holds '=' (base64 padding, "c2Vzc2lvbg=="), unless
// what comes before the first '=' is cookieName.
const cookieName = "masker_session"

// authError is a credential missing from the command line: exit code 3.
type authError struct{ msg string }

func (e *authError) Error() string        { return e.msg }
func (e *authError) Is(target error) bool { return target == client.ErrUnauthenticated }

// dispatch runs the subcommand that args name, after the connection flags given before it.
func dispatch(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	g, args, err := parseGlobals(args, getenv)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usagef("no command")
	}
	name, args := args[0], args[1:]
	switch name {
	case "help":
		return errHelp
	case "list":
		return list(ctx, args, g, stdout)
	case "show":
		return show(ctx, args, g, stdout)
	case "tail":
		return tail(ctx, args, g, stdout, stderr)
	case "summary":
		return summary(ctx, args, g, stdout)
	case "export":
		return export(ctx, args, g, stdout, stderr)
	}
	return usagef("unknown command %q", name)
}

// noArgs refuses positional arguments.
func noArgs(name string, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q", name, args[0])
	}
	return nil
}

func list(ctx context.Context, args []string, g globals, stdout io.Writer) error {
	formats := []string{"table", "json", "csv"}
	c := newCommand("list", g, true, true, formats...)
	limit := new(int)
	decimalFlag(c.fs, limit, "limit", "print at most this many sessions; 0: all")
	rest, err := c.parse(args, formats...)
	if err != nil {
		return err
	}
	if err := noArgs("list", rest); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("list: --limit %d: want 0 (all) or more", *limit)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if c.format == "csv" {
		if *limit != 0 {
			return usagef("list: --limit applies to the table and json formats; csv lists every session (the server's export)")
		}
		_, err := cl.Export(ctx, c.query, client.CSV, stdout)
		return err
	}
	if *limit <= sessions.MaxLimit {
		c.query.PageSize = *limit // ask for what is printed: --limit 10 reads one page of 10
	}
	out := newPrinter(stdout, c.format)
	n := 0
	for s, err := range cl.Sessions(ctx, c.query) {
		if err != nil {
			out.w.Flush() // the sessions received stay printed, each whole; the error says why the list stops
			return err
		}
		if err := out.session(s, ""); err != nil {
			return err
		}
		if n++; n == *limit {
			break
		}
	}
	return out.close()
}

func show(ctx context.Context, args []string, g globals, stdout io.Writer) error {
	formats := []string{"table", "json"}
	c := newCommand("show", g, false, false, formats...)
	rest, err := c.parse(args, formats...)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("show: want one session ID, got %d arguments", len(rest))
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if !sessions.IsSessionID(rest[0]) {
		// The API answers a malformed ID as an unknown one; such an ID ("sess_../x") may not
		// even reach its route: answer it here alike (exit 4).
		return fmt.Errorf("%q is not a session ID (sess_ and a ULID): %w", printable(rest[0]), sessions.ErrSessionNotFound)
	}
	s, err := cl.Session(ctx, rest[0])
	if err != nil {
		return err
	}
	if c.format == "json" {
		return writeJSONLine(stdout, jsonSession(s, ""))
	}
	return writeDetail(stdout, s)
}

func tail(ctx context.Context, args []string, g globals, stdout, stderr io.Writer) error {
	formats := []string{"table", "json"}
	c := newCommand("tail", g, true, false, formats...)
	from := c.fs.String("from", "", "resume after this event ID")
	rest, err := c.parse(args, formats...)
	if err != nil {
		return err
	}
	if err := noArgs("tail", rest); err != nil {
		return err
	}
	// The tail reconnects by itself; say so, so that a tail of a server that is down does not
	// look hung.
	cl, err := c.client(client.WithTailReconnecting(func(err error, wait time.Duration) {
		fmt.Fprintf(stderr, "sessions: reconnecting in %s: %s\n", wait.Round(100*time.Millisecond), oneLine(message(err)))
	}))
	if err != nil {
		return err
	}
	out := newPrinter(stdout, c.format)
	out.stream = true
	for ev, err := range cl.Tail(ctx, c.query, *from) {
		if err != nil {
			out.close() // what was printed stays printed; the error says why the tail ended
			return err
		}
		if err := out.session(ev.Session, ev.ID); err != nil {
			return err
		}
	}
	return out.close()
}

func summary(ctx context.Context, args []string, g globals, stdout io.Writer) error {
	formats := []string{"table", "json"}
	c := newCommand("summary", g, true, true, formats...)
	rest, err := c.parse(args, formats...)
	if err != nil {
		return err
	}
	if err := noArgs("summary", rest); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	m, err := cl.Summary(ctx, c.query)
	if err != nil {
		return err
	}
	if c.format == "json" {
		return writeJSONLine(stdout, jsonSummary(m))
	}
	return writeSummary(stdout, m)
}

func export(ctx context.Context, args []string, g globals, stdout, stderr io.Writer) error {
	formats := []string{"csv", "ndjson"}
	c := newCommand("export", g, true, true, formats...)
	output := c.fs.String("output", "-", "the file to write; - for stdout")
	rest, err := c.parse(args, formats...)
	if err != nil {
		return err
	}
	if err := noArgs("export", rest); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var w io.Writer = stdout
	var file *os.File
	if *output != "-" {
		// The file is written under a temporary name and renamed when complete, so that an
		// aborted export never leaves a file that looks whole.
		if info, err := os.Stat(*output); err == nil && info.IsDir() {
			return usagef("export: --output %s is a directory; give a file name", *output)
		}
		file, err = os.CreateTemp(dirOf(*output), ".sessions-export-*")
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the temporary file's name means nothing to the user
			}
			return fmt.Errorf("--output %s: cannot write in %s: %w", *output, dirOf(*output), err)
		}
		defer os.Remove(file.Name())
		defer file.Close()
		w = file
	}
	header := int64(0)
	if c.format == "csv" {
		header = 1
	}
	if p := newProgress(ctx, cl, c.query, header, stderr); p != nil {
		w = p.wrap(w)
		defer p.stop()
	}
	if _, err := cl.Export(ctx, c.query, client.Format(c.format), w); err != nil {
		return err
	}
	if file == nil {
		return nil
	}
	if err := file.Close(); err != nil {
		return err
	}
	if err := os.Rename(file.Name(), *output); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// dirOf returns the directory of path, for a temporary file beside it.
func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i+1]
	}
	return "."
}
