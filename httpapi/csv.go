package httpapi

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/masker-dev/sessions"
	"github.com/masker-dev/sessions/internal/kindsjson"
)

// csvHeader is the first row of a CSV export.
const csvHeader = "id,agent_id,agent_name,started_at,ended_at,duration_ms,status,redaction_count,redactions_by_kind,upstream_model\r\n"

// appendCSVRow writes the CSV row of s, ended by CRLF (RFC 4180), with the values of a
// /api/v1/sessions item: times as in JSON, redactions_by_kind as the item's compact JSON object
// with sorted keys, and an empty cell for no upstream model. It uses e's scratch space for the
// kinds.
func (e *pageEncoder) appendCSVRow(b []byte, s *sessions.Session) []byte {
	b = appendCSVText(b, s.ID)
	b = append(b, ',')
	b = appendCSVText(b, s.AgentID)
	b = append(b, ',')
	b = appendCSVText(b, s.AgentName)
	b = append(b, ',')
	b = appendTime(b, s.StartedAt)
	b = append(b, ',')
	b = appendTime(b, s.EndedAt)
	b = append(b, ',')
	b = strconv.AppendInt(b, s.EndedAt.UnixMilli()-s.StartedAt.UnixMilli(), 10) // exact: Duration stops at 292 years
	b = append(b, ',')
	b = appendCSVText(b, string(s.Status))
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.RedactionCount()), 10)
	b = append(b, ',')
	// A non-empty object holds quotes and commas: it is quoted, its quotes doubled. Kinds are
	// plain ASCII (sessions validates them), so it never starts like a formula.
	start := len(b)
	b = kindsjson.Append(b, s.RedactionsByKind)
	if len(b) > start+2 { // not {}
		b = quoteCSVTail(b, start)
	}
	b = append(b, ',')
	b = appendCSVText(b, s.UpstreamModel)
	return append(b, '\r', '\n')
}

// formulaStart tells which first bytes make a spreadsheet (Excel, LibreOffice, Google Sheets)
// read a cell as a formula: =, +, -, @, tab and carriage return (OWASP, CSV injection).
var formulaStart = [256]bool{'=': true, '+': true, '-': true, '@': true, '\t': true, '\r': true}

// appendCSVText writes a text cell: prefixed with ' when a spreadsheet would run it as a formula,
// so that an agent named =HYPERLINK(...) is shown as text, and quoted (RFC 4180) when it holds a
// comma, a quote, a line break, or starts with a space. Invalid UTF-8 becomes U+FFFD, as in JSON.
func appendCSVText(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	start := len(b)
	if s != "" && formulaStart[s[0]] {
		b = append(b, '\'')
	}
	b = append(b, s...)
	if strings.ContainsAny(s, ",\"\r\n") || s != "" && s[0] == ' ' {
		b = quoteCSVTail(b, start)
	}
	return b
}

// quoteCSVTail quotes the cell that b holds from start on: in quotes, with its quotes doubled.
func quoteCSVTail(b []byte, start int) []byte {
	quotes := 0
	for _, c := range b[start:] {
		if c == '"' {
			quotes++
		}
	}
	n := len(b)
	b = append(b, make([]byte, quotes+2)...)
	// Move the cell right from its end, doubling quotes, then open the quote at start.
	w := len(b) - 1
	b[w] = '"'
	w--
	for r := n - 1; r >= start; r-- {
		b[w] = b[r]
		w--
		if b[r] == '"' {
			b[w] = '"'
			w--
		}
	}
	b[w] = '"'
	return b
}
