package httpapi

import (
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// timeLayout writes a UTC time in RFC 3339 with milliseconds, trailing zeros dropped:
// 2026-05-03T21:14:32Z, 2026-05-03T21:14:32.794Z, 2026-05-03T21:14:32.79Z.
const timeLayout = "2006-01-02T15:04:05.999Z07:00"

// formatTime formats t as the API writes times.
func formatTime(t time.Time) string { return string(appendTime(nil, t)) }

// pageEncoder writes the JSON body of a page without reflection. Encoders are pooled, so that a
// page costs no allocation once the pool is warm.
type pageEncoder struct {
	buf []byte
}

var pageEncoders = sync.Pool{New: func() any { return &pageEncoder{buf: make([]byte, 0, 32<<10)} }}

// maxPooledBuf is the largest buffer that goes back to the pool.
const maxPooledBuf = 1 << 20

func getPageEncoder() *pageEncoder { return pageEncoders.Get().(*pageEncoder) }

func putPageEncoder(e *pageEncoder) {
	if cap(e.buf) <= maxPooledBuf {
		e.buf = e.buf[:0]
		pageEncoders.Put(e)
	}
}

// encode writes {"data": [...], "next_cursor": ...} for the sessions of a page of ep, with next
// as next_cursor, or null when it is "".
func (e *pageEncoder) encode(ep *endpoint, ss []sessions.Session, next string) []byte {
	b := append(e.buf[:0], `{"data":[`...)
	for i := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.appendSession(b, ep, &ss[i])
	}
	b = append(b, `],"next_cursor":`...)
	if next == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, next)
	}
	b = append(b, '}')
	e.buf = b
	return b
}

// appendSession writes one item of data, with its fields in the documented order.
func (e *pageEncoder) appendSession(b []byte, ep *endpoint, s *sessions.Session) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"agent_id":`...)
	b = appendString(b, s.AgentID)
	if ep.listing {
		b = append(b, `,"agent_name":`...)
		b = appendString(b, s.AgentName)
	}
	b = append(b, `,"started_at":"`...)
	b = appendTime(b, s.StartedAt)
	b = append(b, `","ended_at":"`...)
	b = appendTime(b, s.EndedAt)
	b = append(b, `","duration_ms":`...)
	b = strconv.AppendInt(b, s.EndedAt.UnixMilli()-s.StartedAt.UnixMilli(), 10) // exact: Duration stops at 292 years
	b = append(b, `,"status":`...)
	b = appendString(b, string(s.Status))
	b = append(b, `,"redaction_count":`...)
	b = strconv.AppendInt(b, int64(s.RedactionCount()), 10)
	b = append(b, `,"redactions_by_kind":`...)
	b = kindsjson.Append(b, s.RedactionsByKind)
	if ep.listing {
		b = append(b, `,"upstream_model":`...)
		if s.UpstreamModel == "" {
			b = append(b, "null"...)
		} else {
			b = appendString(b, s.UpstreamModel)
		}
	}
	return append(b, '}')
}

// appendTime writes t as formatTime does, without the cost of a layout: t in UTC, whole
// milliseconds with trailing zeros dropped.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, min, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	if ms := t.Nanosecond() / 1e6; ms != 0 {
		b = append(b, '.', byte('0'+ms/100))
		if ms%100 != 0 {
			b = append(b, byte('0'+ms/10%10))
			if ms%10 != 0 {
				b = append(b, byte('0'+ms%10))
			}
		}
	}
	return append(b, 'Z')
}

const hexDigits = "0123456789abcdef"

// jsonSafe tells which ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return safe
}()

// appendString writes s as a JSON string, as encoding/json would: invalid UTF-8 becomes U+FFFD,
// and control characters, <, >, &, U+2028 and U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
