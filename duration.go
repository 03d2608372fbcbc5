package sessions

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// durationUnits lists the units of ParseDuration, largest first.
var durationUnits = []struct {
	name byte
	size time.Duration
}{
	{'w', 7 * 24 * time.Hour},
	{'d', 24 * time.Hour},
	{'h', time.Hour},
	{'m', time.Minute},
	{'s', time.Second},
}

// ParseDuration parses a duration such as "90s", "15m", "1h", "36h", "7d", "2w" or "1d12h": one or
// more positive whole numbers, each followed by a unit, with units s, m, h, d (24 hours) and w (7
// days), each used at most once and from the largest to the smallest. It returns a
// *ValidationError with Field "duration" for anything else, for zero, and for a duration that
// overflows time.Duration.
func ParseDuration(s string) (time.Duration, error) {
	d, ok := parseDuration(s)
	if !ok {
		return 0, &ValidationError{Field: "duration", Reason: fmt.Sprintf("%q: want a duration like 24h, 7d or 1d12h (units s, m, h, d, w)", truncate(s))}
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, bool) {
	var total time.Duration
	unit := 0 // index into durationUnits of the next unit allowed
	for s != "" {
		digits := 0
		for digits < len(s) && '0' <= s[digits] && s[digits] <= '9' {
			digits++
		}
		if digits == 0 || digits == len(s) {
			return 0, false
		}
		n := int64(0)
		for _, c := range s[:digits] {
			if n > (math.MaxInt64-9)/10 {
				return 0, false
			}
			n = n*10 + int64(c-'0')
		}
		for unit < len(durationUnits) && durationUnits[unit].name != s[digits] {
			unit++
		}
		if n == 0 || unit == len(durationUnits) {
			return 0, false
		}
		size := durationUnits[unit].size
		if n > int64(math.MaxInt64-total)/int64(size) {
			return 0, false
		}
		total += time.Duration(n) * size
		unit++
		s = s[digits+1:]
	}
	return total, total > 0
}

// ParseTime parses a point in time: a duration (see ParseDuration) counted back from now, or a
// timestamp in ISO 8601 / RFC 3339 form, with or without fractional seconds and with or without
// an offset (a time without one is UTC), or a bare date such as 2026-05-03, which means midnight
// UTC. The result is in UTC. It returns a *ValidationError with Field "time" for anything else.
// It parses both bounds of a time window, since and until; ParseSince is the same parse with its
// error naming since. It is safe for concurrent use.
func ParseTime(s string, now time.Time) (time.Time, error) {
	return parseTime(s, now, "time")
}

// ParseSince parses the lower bound of a time window exactly as ParseTime does. It returns a
// *ValidationError with Field "since" for what ParseTime rejects. It is safe for concurrent use.
func ParseSince(s string, now time.Time) (time.Time, error) {
	return parseTime(s, now, "since")
}

// parseTime is ParseTime with field as the Field of its error.
func parseTime(s string, now time.Time, field string) (time.Time, error) {
	if d, ok := parseDuration(s); ok {
		return now.Add(-d).UTC(), nil
	}
	if t, ok := parseTimestamp(s); ok {
		return t, nil
	}
	return time.Time{}, &ValidationError{Field: field, Reason: fmt.Sprintf("%q: want a duration like 24h or 7d, or an RFC 3339 timestamp", truncate(s))}
}

var timestampLayouts = []string{
	time.RFC3339Nano,      // with an offset or Z, and with or without fractional seconds
	"2006-01-02T15:04:05", // no offset: UTC (fractional seconds are accepted too)
	"2006-01-02",          // a bare date: midnight UTC
}

func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < len("2006-01-02") || len(s) > len("2006-01-02T15:04:05.999999999+07:00") || strings.ContainsAny(s, " \t") {
		return time.Time{}, false
	}
	// RFC 3339 allows a lower-case t and z (section 5.6); Go's layouts do not.
	s = strings.Map(func(r rune) rune {
		switch r {
		case 't':
			return 'T'
		case 'z':
			return 'Z'
		}
		return r
	}, s)
	if n := len(s); n > len("2006-01-02T15:04:05") && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':' &&
		(s[n-5:n-3] > "23" || s[n-2:] > "59") {
		return time.Time{}, false // an offset out of RFC 3339's range, which time.Parse takes
	}
	// RFC 3339 allows a leap second, second 60 (section 5.6), which time.Parse refuses: it is
	// read as second 59 and one more second, the next minute's first.
	leap := time.Duration(0)
	if len(s) >= len("2006-01-02T15:04:60") && s[10] == 'T' && s[16] == ':' && s[17:19] == "60" {
		s, leap = s[:17]+"59"+s[19:], time.Second
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Add(leap).UTC(), true
		}
	}
	return time.Time{}, false
}
