package client_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

func TestSummary(t *testing.T) {
	s := newServer(t, 150)
	c := s.client(t)
	for _, tc := range []struct {
		name string
		q    client.Query
		f    sessions.Filter
	}{
		{"account", client.Query{}, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour)}},
		{"agent, min redactions, until", client.Query{AgentID: s.agent.ID, Since: "2h", Until: "2026-05-03T21:00:00Z", MinRedactions: 2},
			sessions.Filter{AccountID: account, AgentID: s.agent.ID, Since: now.Add(-2 * time.Hour), Until: time.Date(2026, 5, 3, 21, 0, 0, 0, time.UTC), MinRedactions: 2}},
		{"none", client.Query{Status: sessions.StatusPartial}, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour), Status: sessions.StatusPartial}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Summary(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			want := client.Summary{Summary: sessions.NewSummary(), Since: tc.f.Since, Until: tc.f.Until}
			for _, sess := range walk(t, s.store, tc.f) {
				want.Add(sess)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := c.Summary(t.Context(), client.Query{AgentID: sessions.NewAgentID()}); !errors.Is(err, sessions.ErrAgentNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
}

// TestSummaryLongDuration checks that a duration_ms past what a time.Duration holds, which a
// server that sums exactly may send, gives the longest time.Duration, not a negative one.
func TestSummaryLongDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"summary":{"since":"2026-05-03T12:00:00Z","until":null,"sessions":40000,`+
			`"by_status":{"ok":40000,"error":0,"partial":0},"redaction_count":0,"redactions_by_kind":{},`+
			`"duration_ms":12623040000000}}`) // 400 years
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithBearerToken(token))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Summary(t.Context(), client.Query{})
	if err != nil || got.Duration != math.MaxInt64 {
		t.Errorf("Summary: duration %v, %v; want the longest time.Duration", got.Duration, err)
	}
}

func TestExport(t *testing.T) {
	s := newServer(t, 250)
	c := s.client(t)
	want := walk(t, s.store, sessions.Filter{AccountID: account, Since: now.Add(-24 * time.Hour)})

	var buf bytes.Buffer
	n, err := c.Export(t.Context(), client.Query{}, client.CSV, &buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Export = %d, %v; wrote %d", n, err, buf.Len())
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 || rows[0][0] != "id" {
		t.Fatalf("%d rows, header %q; want %d sessions", len(rows), rows[0], len(want))
	}
	for i, sess := range want {
		if rows[i+1][0] != sess.ID {
			t.Fatalf("row %d: %q, want %s", i+1, rows[i+1][0], sess.ID)
		}
	}

	buf.Reset()
	if _, err := c.Export(t.Context(), client.Query{AgentID: s.agent.ID}, client.NDJSON, &buf); err != nil {
		t.Fatal(err)
	}
	var got []string
	for sc := bufio.NewScanner(&buf); sc.Scan(); {
		var it struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		got = append(got, it.ID)
	}
	var wantIDs []string
	for _, sess := range want {
		wantIDs = append(wantIDs, sess.ID)
	}
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("ndjson IDs (-want +got):\n%s", diff)
	}

	if _, err := c.Export(t.Context(), client.Query{}, "xml", &buf); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := c.Export(t.Context(), client.Query{Since: "soon"}, client.CSV, &buf); !errors.As(err, new(*sessions.ValidationError)) {
		t.Errorf("bad since: %v", err)
	}
}

// TestExportCutOff checks that a transfer the server aborts after the first byte is an error,
// never a complete export.
func TestExportCutOff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "id,agent_id\nsess_1,agt_1\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	var buf bytes.Buffer
	n, err := c.Export(t.Context(), client.Query{}, client.CSV, &buf)
	if err == nil || !errors.Is(err, sessions.ErrUnavailable) {
		t.Errorf("an aborted transfer: %d bytes, %v; want an error matching ErrUnavailable", n, err)
	}
	if n == 0 || n != int64(buf.Len()) {
		t.Errorf("wrote %d, counted %d", buf.Len(), n)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestExportWriterError(t *testing.T) {
	s := newServer(t, 3)
	_, err := s.client(t).Export(t.Context(), client.Query{}, client.CSV, failingWriter{})
	if err == nil || err.Error() != "disk full" {
		t.Errorf("Export to a failing writer: %v, want its error as it is", err)
	}
}

// TestExportUnframed checks that an export whose response could not show a cut (no length, no
// chunks: the end of the connection ends it) or that is not of the format's media type is an
// error, and that one compressed by a proxy, whose gzip trailer shows a cut, is an error when
// it is cut; and TestExportGzip that it is taken when whole.
func TestExportUnframed(t *testing.T) {
	for _, tc := range []struct{ name, response string }{
		{"no length and no chunks, cut midway", "HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\nConnection: close\r\n\r\nid,agent_id\r\nsess_2,ag"},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Type: text/csv\r\n\r\nid,agent_id\r\n"},
		{"a web page", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\n\r\n<!doctype html>"},
		{"gzip cut midway", "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + gzipped("id,agent_id\r\nsess_1,agt_1\r\n")[:20]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				bufio.NewReader(conn).ReadString('\n') // the request line; the rest does not matter
				conn.Write([]byte(tc.response))
			}()
			c, err := client.New("http://"+ln.Addr().String(), client.WithBearerToken("t"), client.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, err = c.Export(t.Context(), client.Query{}, client.CSV, &buf)
			if err == nil || (!strings.HasPrefix(tc.name, "gzip") && buf.Len() != 0) {
				t.Errorf("Export wrote %q, then %v; want an error, and nothing written before a response that cannot show a cut", buf.String(), err)
			}
		})
	}
}

// gzipped returns s compressed with gzip.
func gzipped(s string) string {
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	z.Write([]byte(s))
	z.Close()
	return b.String()
}

// TestExportGzip checks that an export that a proxy compressed, with a length or without one,
// is taken whole: its gzip trailer would show a cut.
func TestExportGzip(t *testing.T) {
	const csvFile = "id,agent_id\r\nsess_1,agt_1\r\n"
	body := gzipped(csvFile)
	for _, header := range []string{fmt.Sprintf("Content-Length: %d\r\n", len(body)), "Connection: close\r\n"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			bufio.NewReader(conn).ReadString('\n')
			conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Encoding: gzip\r\n" + header + "\r\n" + body))
		}()
		c, _ := client.New("http://"+ln.Addr().String(), client.WithBearerToken("t"), client.WithRetries(0))
		var buf bytes.Buffer
		if _, err := c.Export(t.Context(), client.Query{}, client.CSV, &buf); err != nil || buf.String() != csvFile {
			t.Errorf("%q: Export wrote %q, %v; want the whole file", header, buf.String(), err)
		}
		ln.Close()
	}
}
