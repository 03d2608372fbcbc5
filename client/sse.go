package client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxEventLine bounds one line of an event stream; a session item is far smaller.
const maxEventLine = 1 << 20

// maxEventData bounds the data of one event, its data lines joined: a server that sends data
// lines without the blank line that ends an event would otherwise make the client hold them all.
const maxEventData = maxEventLine

// errEventTooLong is the error of an event whose data is over maxEventData bytes.
var errEventTooLong = errors.New("an event's data over " + strconv.Itoa(maxEventData) + " bytes")

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	typ  string // the event field; "message" when absent
	data string // the data lines, joined with "\n"
}

// sseReader parses a text/event-stream as the HTML standard's EventSource does: a leading byte
// order mark skipped; lines ending in LF, CRLF or CR; fields event, data, id and retry; comments
// and unknown fields ignored; an event dispatched at a blank line when it has data.
type sseReader struct {
	sc          *bufio.Scanner
	lastEventID string        // the last event ID: set by an id field, even on an event with no data
	retry       time.Duration // the reconnection time of the last retry field; 0 when none
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxEventLine)
	sc.Split(newLineSplitter().split)
	return &sseReader{sc: sc}
}

// next returns the next event with data. It returns io.EOF at the end of the stream (an event
// not ended by a blank line is dropped, as the standard says), and the reader's error otherwise.
func (r *sseReader) next() (sseEvent, error) {
	var typ string
	var data strings.Builder
	hasData, idSeen := false, false
	id := r.lastEventID
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if idSeen {
				r.lastEventID = id
			}
			if hasData {
				if typ == "" {
					typ = "message"
				}
				return sseEvent{typ: typ, data: data.String()}, nil
			}
			typ, hasData, idSeen = "", false, false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue // a comment: a heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			if data.Len()+len(value) > maxEventData {
				return sseEvent{}, errEventTooLong
			}
			data.WriteString(value)
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				id, idSeen = value, true
			}
		case "retry":
			if ms, err := strconv.ParseUint(value, 10, 31); err == nil {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// bom is the UTF-8 byte order mark, which the standard drops at the start of a stream.
const bom = "\uFEFF"

// lineSplitter splits a stream into lines at LF, CRLF or CR, the line ends of an event stream,
// after a leading byte order mark. A line ended by CR is returned as soon as the CR arrives, not
// when the next byte shows whether an LF follows: a server that ends its lines with CR alone
// must see each event delivered at once. An LF right after that CR is skipped.
type lineSplitter struct {
	started bool // past the byte order mark, or sure that there is none
	skipLF  bool // the last line ended with CR: an LF first is its end, not an empty line
}

func newLineSplitter() *lineSplitter { return &lineSplitter{} }

// split is a bufio.SplitFunc. What it skips (the byte order mark, an LF after CR) goes into the
// advance of the next line: a bufio.Scanner at the end of its input stops at an advance that
// returns no token.
func (s *lineSplitter) split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	skip := 0
	if !s.started {
		switch {
		case bytes.HasPrefix(data, []byte(bom)):
			skip = len(bom)
		case !atEOF && len(data) < len(bom) && bytes.HasPrefix([]byte(bom), data):
			return 0, nil, nil // maybe a byte order mark: wait for the rest
		}
		s.started = true
	}
	if s.skipLF && len(data) > skip {
		s.skipLF = false
		if data[skip] == '\n' {
			skip++
		}
	}
	data = data[skip:]
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0:
		if atEOF && len(data) > 0 {
			return 0, nil, io.ErrUnexpectedEOF // a last line without its end: the stream was cut
		}
		return skip, nil, nil
	case data[i] == '\r':
		s.skipLF = true
	}
	return skip + i + 1, data[:i], nil
}
