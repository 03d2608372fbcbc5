package client

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSSEReader(t *testing.T) {
	type read struct {
		Ev     sseEvent
		LastID string
		Err    string
	}
	for _, tc := range []struct {
		name  string
		in    string
		want  []read
		retry time.Duration
	}{
		{"opening with id and no data, then an event", "retry: 2000\nid: p0\n\n: heartbeat\nevent: session\nid: p1\ndata: {\"a\":1}\n\n",
			[]read{{sseEvent{"session", `{"a":1}`}, "p1", ""}, {LastID: "p1", Err: "EOF"}}, 2 * time.Second},
		{"CRLF and CR line ends", "id: x\r\ndata: 1\r\n\r\ndata: 2\rdata: 3\r\r",
			[]read{{sseEvent{"message", "1"}, "x", ""}, {sseEvent{"message", "2\n3"}, "x", ""}, {LastID: "x", Err: "EOF"}}, 0},
		{"no space after the colon, unknown fields, comments", "data:a\nfoo: bar\n:c\n\n",
			[]read{{sseEvent{"message", "a"}, "", ""}, {Err: "EOF"}}, 0},
		{"an event cut before its blank line is dropped", "event: session\nid: p9\ndata: {}\n",
			[]read{{Err: "EOF"}}, 0},
		{"a line cut mid-way", "event: session\nid: p9\ndata: {",
			[]read{{Err: "unexpected EOF"}}, 0},
		{"an id with NUL is ignored", "id: a\x00b\ndata: 1\n\n",
			[]read{{sseEvent{"message", "1"}, "", ""}, {Err: "EOF"}}, 0},
		{"a leading byte order mark is dropped", "\uFEFFdata: 1\n\n",
			[]read{{sseEvent{"message", "1"}, "", ""}, {Err: "EOF"}}, 0},
		{"a byte order mark elsewhere is kept", "data: \uFEFFx\n\n",
			[]read{{sseEvent{"message", "\uFEFFx"}, "", ""}, {Err: "EOF"}}, 0},
		{"only a byte order mark", "\uFEFF", []read{{Err: "EOF"}}, 0},
		{"CR then LF across events", "data: 1\r\n\r\ndata: 2\r\r\n",
			[]read{{sseEvent{"message", "1"}, "", ""}, {sseEvent{"message", "2"}, "", ""}, {Err: "EOF"}}, 0},
		{"an empty id resets it", "id: a\ndata: 1\n\nid\ndata: 2\n\n",
			[]read{{sseEvent{"message", "1"}, "a", ""}, {sseEvent{"message", "2"}, "", ""}, {Err: "EOF"}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSSEReader(strings.NewReader(tc.in))
			var got []read
			for {
				ev, err := r.next()
				rd := read{Ev: ev, LastID: r.lastEventID}
				if err != nil {
					rd.Err = err.Error()
				}
				got = append(got, rd)
				if err != nil {
					break
				}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(sseEvent{})); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
			if r.retry != tc.retry {
				t.Errorf("retry %v, want %v", r.retry, tc.retry)
			}
		})
	}
}

// chunkReader returns its chunks one Read each, and then errBlocked: a stream that sends no more
// for now, which a parser must not need to read to return what it has.
type chunkReader struct{ chunks []string }

var errBlocked = errors.New("read past what the server has sent")

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, errBlocked
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// TestSSEReaderCR checks that a line ended by CR is returned as soon as the CR arrives (not when
// the next byte shows whether LF follows), and that an LF arriving after it is skipped, not read
// as an empty line; and that a byte order mark split across reads is dropped.
func TestSSEReaderCR(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []sseEvent
	}{
		{"CR at the end of each read", []string{"data: 1\r", "\r"}, []sseEvent{{"message", "1"}}},
		{"CR CR in one read", []string{"data: 1\r\r"}, []sseEvent{{"message", "1"}}},
		{"LF in the next read", []string{"data: 1\r", "\ndata: 2\r", "\n\r", "\n"}, []sseEvent{{"message", "1\n2"}}},
		{"LF after CR, then events", []string{"event: session\r", "\nid: 7\r", "\ndata: a\r", "\n\r", "\ndata: b\r\r"},
			[]sseEvent{{"session", "a"}, {"message", "b"}}},
		{"a byte order mark split across reads", []string{"\xEF", "\xBB\xBF", "data: 1\n\n"}, []sseEvent{{"message", "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newSSEReader(&chunkReader{chunks: tc.chunks})
			var got []sseEvent
			for range tc.want {
				ev, err := r.next()
				if err != nil {
					t.Fatalf("after %v: %v", got, err)
				}
				got = append(got, ev)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(sseEvent{})); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if _, err := r.next(); !errors.Is(err, errBlocked) {
				t.Errorf("after the events: %v, want the reader's error", err)
			}
		})
	}
}

func TestSSEReaderLongLine(t *testing.T) {
	r := newSSEReader(strings.NewReader("data: " + strings.Repeat("x", maxEventLine) + "\n\n"))
	if _, err := r.next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("a line over %d bytes: %v, want an error", maxEventLine, err)
	}
}

// TestSSEReaderLongEvent checks that an event of many data lines, each within maxEventLine, is
// refused once its data passes maxEventData, rather than held whole: a server that never ends an
// event must not make the client grow without bound.
func TestSSEReaderLongEvent(t *testing.T) {
	line := "data: " + strings.Repeat("x", 1000) + "\n"
	r := newSSEReader(io.MultiReader(strings.NewReader(strings.Repeat(line, 2*maxEventData/1000)), strings.NewReader("\n")))
	if _, err := r.next(); !errors.Is(err, errEventTooLong) {
		t.Errorf("an event of %d bytes of data: %v, want errEventTooLong", 2*maxEventData, err)
	}
	// Up to the bound, it is one event.
	n := maxEventData / 1001
	r = newSSEReader(strings.NewReader(strings.Repeat(line, n) + "\n"))
	if ev, err := r.next(); err != nil || len(ev.data) != n*1001-1 {
		t.Errorf("an event of %d data lines: %d bytes, %v; want %d bytes", n, len(ev.data), err, n*1001-1)
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: time.Second}
	for attempt := range 40 {
		for range 20 {
			d := b.delay(attempt)
			limit := min(b.min<<min(attempt, 20), b.max)
			if d < b.min/2 || d > limit {
				t.Fatalf("delay(%d) = %v, want %v to %v", attempt, d, b.min/2, limit)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"100000":                        100000 * time.Second,
		"99999999999999999":             365 * 24 * time.Hour,
		"Sun, 03 May 2026 21:14:42 GMT": 10 * time.Second,
		"Sun, 03 May 2026 21:14:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
