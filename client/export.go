package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"

	"github.com/masker-dev/sessions"
)

// Format is the format of an export.
type Format string

// The formats of an export.
const (
	CSV    Format = "csv"    // text/csv: a header row, then one row per session
	NDJSON Format = "ndjson" // application/x-ndjson: one /api/v1/sessions item per line
)

// exportContentTypes are the media types of the formats' responses.
var exportContentTypes = map[Format]string{CSV: "text/csv", NDJSON: "application/x-ndjson"}

// errMalformed is the cause of an error for a 200 response whose body is not what the API sends.
var errMalformed = errors.New("the response is not the sessions API's")

// Export writes every session that q selects, newest first, to w in the format f, as the server
// streams it, and returns how many bytes it wrote. The export is complete only when err is nil:
// a server that fails midway aborts the transfer, which gives an error here, and what w received
// is then a truncated file to discard. A response whose end could not show a cut (HTTP/1.0, or
// HTTP/1.1 without a length or chunks) or that is not of the format's media type is an error
// before any byte is written. Retries happen only before the first byte. With q.AgentID
// set it reads the agent's route, /api/v1/agents/{agent_id}/sessions/export, and
// /api/v1/sessions/export otherwise; they send the same file. When ctx ends midway, the error is
// ctx's, in the terms of sessions.FromContextError.
func (c *Client) Export(ctx context.Context, q Query, f Format, w io.Writer) (written int64, err error) {
	if f != CSV && f != NDJSON {
		return 0, fmt.Errorf("client: export format %q: want %q or %q", f, CSV, NDJSON)
	}
	path, v, err := q.route("/export", true)
	if err != nil {
		return 0, err
	}
	v.Set("format", string(f))
	resp, err := c.get(ctx, path, v, http.Header{"Accept": {exportContentTypes[f]}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != exportContentTypes[f] {
		// Not a retry: a proxy's page or another API answers there, and would again.
		return 0, fmt.Errorf("client: %w: the export's Content-Type is %q, not %s", errMalformed, resp.Header.Get("Content-Type"), exportContentTypes[f])
	}
	if resp.ProtoMajor == 1 && resp.ContentLength < 0 && !slices.Contains(resp.TransferEncoding, "chunked") && !resp.Uncompressed {
		// The body ends when the connection closes, as it would if the server failed midway:
		// a whole file and a cut one would look the same. (A body that net/http decompressed
		// ends with gzip's own trailer, whose absence is an error.)
		return 0, fmt.Errorf("client: %w: an export of %s without a length or chunks, whose end cannot tell a whole file from a cut one", errMalformed, resp.Proto)
	}
	n, err := io.Copy(callerWriter{w}, resp.Body)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return n, sessions.FromContextError(ctxErr)
		}
		var we *writeError
		if errors.As(err, &we) {
			return n, err
		}
		return n, &connError{fmt.Errorf("the export was cut off after %d bytes: %w", n, err)}
	}
	return n, nil
}

// callerWriter marks the errors of the caller's writer.
type callerWriter struct{ w io.Writer }

func (c callerWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// writeError marks an error of the caller's writer, which is not the server's.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }
