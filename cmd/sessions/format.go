package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/client"
)

// The columns of the table, which fits 80 columns: started, agent name, duration, status,
// redactions.
const (
	colStarted    = 19 // "2006-01-02 15:04:05"
	colAgent      = 18
	colDuration   = 9 // "1h02m03s", and "10h02m03s" for a call left open
	colStatus     = 7
	colRedactions = 80 - colStarted - colAgent - colDuration - colStatus - 4
)

// printer writes sessions as a table or as JSON, as they come.
type printer struct {
	w      *bufio.Writer
	format string
	stream bool // a tail: JSON lines, flushed after each session, with the event ID
	n      int
}

func newPrinter(w io.Writer, format string) *printer {
	return &printer{w: bufio.NewWriter(w), format: format}
}

// session prints one session; eventID is its tail event's ID, or "".
func (p *printer) session(s sessions.Session, eventID string) error {
	switch {
	case p.format == "json" && p.stream:
		b, _ := json.Marshal(jsonSession(s, eventID))
		p.w.Write(append(b, '\n'))
	case p.format == "json":
		b, _ := json.Marshal(jsonSession(s, ""))
		if p.n == 0 {
			p.w.WriteString("[\n")
		} else {
			p.w.WriteString(",\n")
		}
		p.w.Write(b)
	default:
		// Padded by display width, not bytes or runes: an agent named in CJK or with an emoji
		// keeps the columns straight.
		if p.n == 0 {
			fmt.Fprintf(p.w, "%s %s %s %s %s\n", padRight("STARTED (UTC)", colStarted), padRight("AGENT", colAgent),
				padLeft("DURATION", colDuration), padRight("STATUS", colStatus), "REDACTIONS")
		}
		fmt.Fprintf(p.w, "%s %s %s %s %s\n",
			padRight(s.StartedAt.UTC().Format(time.DateTime), colStarted),
			padRight(cut(agentName(s), colAgent), colAgent),
			padLeft(cut(formatDuration(s.Duration()), colDuration), colDuration),
			padRight(cut(string(s.Status), colStatus), colStatus),
			cut(redactions(s.RedactionsByKind), colRedactions))
	}
	p.n++
	if p.stream {
		return p.w.Flush()
	}
	return nil
}

// close ends the output: the end of a JSON array, or a line saying that nothing matched.
func (p *printer) close() error {
	switch {
	case p.format == "json" && !p.stream && p.n == 0:
		p.w.WriteString("[]\n")
	case p.format == "json" && !p.stream:
		p.w.WriteString("\n]\n")
	case p.format == "table" && !p.stream && p.n == 0:
		p.w.WriteString("No sessions match.\n")
	}
	return p.w.Flush()
}

// agentName is the agent's name, or its ID when it has none.
func agentName(s sessions.Session) string {
	if s.AgentName != "" {
		return s.AgentName
	}
	return s.AgentID
}

// formatDuration writes a call's duration to the second: 45s, 4m12s, 1h02m03s.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute%60), int(d/time.Second%60)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// redactions writes counts by kind as people read them, most first: "2 NAME, 1 PHONE"; "none"
// when there are none.
func redactions[N int | int64](byKind map[string]N) string {
	type kc struct {
		kind string
		n    N
	}
	var kinds []kc
	for k, n := range byKind {
		if n != 0 {
			kinds = append(kinds, kc{k, n})
		}
	}
	if len(kinds) == 0 {
		return "none"
	}
	slices.SortFunc(kinds, func(a, b kc) int {
		if a.n != b.n {
			if a.n > b.n {
				return -1
			}
			return 1
		}
		return strings.Compare(a.kind, b.kind)
	})
	parts := make([]string, len(kinds))
	for i, x := range kinds {
		parts[i] = strconv.FormatInt(int64(x.n), 10) + " " + printable(x.kind)
	}
	return strings.Join(parts, ", ")
}

// sessionJSON is a session as the JSON format prints it: an item of /api/v1/sessions, and the
// event ID of a tail.
type sessionJSON struct {
	ID               string         `json:"id"`
	AgentID          string         `json:"agent_id"`
	AgentName        string         `json:"agent_name"`
	StartedAt        string         `json:"started_at"`
	EndedAt          string         `json:"ended_at"`
	DurationMS       int64          `json:"duration_ms"`
	Status           string         `json:"status"`
	RedactionCount   int            `json:"redaction_count"`
	RedactionsByKind map[string]int `json:"redactions_by_kind"`
	UpstreamModel    *string        `json:"upstream_model"`
	EventID          string         `json:"event_id,omitempty"`
}

func jsonSession(s sessions.Session, eventID string) sessionJSON {
	j := sessionJSON{
		ID: s.ID, AgentID: s.AgentID, AgentName: s.AgentName,
		StartedAt: formatTime(s.StartedAt), EndedAt: formatTime(s.EndedAt),
		DurationMS: s.Duration().Milliseconds(), Status: string(s.Status),
		RedactionCount: s.RedactionCount(), RedactionsByKind: s.RedactionsByKind, EventID: eventID,
	}
	if s.UpstreamModel != "" {
		j.UpstreamModel = &s.UpstreamModel
	}
	return j
}

// formatTime writes t as the API does: RFC 3339 in UTC, milliseconds without trailing zeros.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z07:00") }

// summaryJSON is a summary as the JSON format prints it: the API's summary object.
type summaryJSON struct {
	Since            string           `json:"since"`
	Until            *string          `json:"until"`
	Sessions         int64            `json:"sessions"`
	ByStatus         map[string]int64 `json:"by_status"`
	RedactionCount   int64            `json:"redaction_count"`
	RedactionsByKind map[string]int64 `json:"redactions_by_kind"`
	DurationMS       int64            `json:"duration_ms"`
}

func jsonSummary(m client.Summary) summaryJSON {
	j := summaryJSON{
		Since: formatTime(m.Since), Sessions: m.Sessions, ByStatus: map[string]int64{},
		RedactionCount: m.RedactionCount, RedactionsByKind: m.RedactionsByKind,
		DurationMS: m.Duration.Milliseconds(),
	}
	if !m.Until.IsZero() {
		u := formatTime(m.Until)
		j.Until = &u
	}
	for st, n := range m.ByStatus {
		j.ByStatus[string(st)] = n
	}
	return j
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeDetail prints one session as a list of fields.
func writeDetail(w io.Writer, s sessions.Session) error {
	model := s.UpstreamModel
	if model == "" {
		model = "-"
	}
	_, err := fmt.Fprintf(w, "ID          %s\nAgent       %s (%s)\nStarted     %s\nEnded       %s\nDuration    %s\nStatus      %s\nRedactions  %s\nModel       %s\n",
		printable(s.ID), cut(s.AgentName, 60), printable(s.AgentID), formatTime(s.StartedAt), formatTime(s.EndedAt),
		formatDuration(s.Duration()), printable(string(s.Status)), redactions(s.RedactionsByKind), cut(model, 128))
	return err
}

// writeSummary prints a summary as a short report.
func writeSummary(w io.Writer, m client.Summary) error {
	until := "now"
	if !m.Until.IsZero() {
		until = formatTime(m.Until)
	}
	_, err := fmt.Fprintf(w, "Window      %s to %s\nSessions    %d (%d ok, %d error, %d partial)\nRedactions  %d: %s\nDuration    %s\n",
		formatTime(m.Since), until, m.Sessions,
		m.ByStatus[sessions.StatusOK], m.ByStatus[sessions.StatusError], m.ByStatus[sessions.StatusPartial],
		m.RedactionCount, redactions(m.RedactionsByKind), formatDuration(m.Duration))
	return err
}
