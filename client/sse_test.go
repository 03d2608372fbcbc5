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

func TestSSEReaderLongLine(t *testing.T) {
	r := newSSEReader(strings.NewReader("data: " + strings.Repeat("x", maxEventLine) + "\n\n"))
	if _, err := r.next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("a line over %d bytes: %v, want an error", maxEventLine, err)
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
		"100000":                        maxRetryAfter,
		"Sun, 03 May 2026 21:14:42 GMT": 10 * time.Second,
		"Sun, 03 May 2026 21:14:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
