// Package kindsjson decodes (Parse) and encodes (Append) the redactions_by_kind column that the
// SQL stores keep as JSON, in a fraction of the time and allocations of encoding/json, and always
// to the same result.
package kindsjson

import (
	"encoding/json"
	"fmt"
)

// Parse decodes the text of a JSON object of whole numbers, as PostgreSQL writes jsonb
// ({"DOB": 1, "NAME": 2}) and SQLite's json functions write text ({"DOB":1,"NAME":2}), into a map that is never nil. What it does not expect (escapes, other
// values, other spacing) it hands to encoding/json, so that its result is always json.Unmarshal's.
func Parse(src []byte) (map[string]int, error) {
	n := 0
	for _, c := range src {
		if c == ':' {
			n++
		}
	}
	m := make(map[string]int, n)
	if len(src) == 0 {
		return m, nil
	}
	i := 0
	skip := func() {
		for i < len(src) && src[i] == ' ' {
			i++
		}
	}
	fallback := func() (map[string]int, error) {
		clear(m)
		if err := json.Unmarshal(src, &m); err != nil {
			return nil, fmt.Errorf("redactions_by_kind %q: %w", src, err)
		}
		if m == nil {
			m = map[string]int{}
		}
		return m, nil
	}
	skip()
	if i == len(src) || src[i] != '{' {
		return fallback()
	}
	i++
	skip()
	if i < len(src) && src[i] == '}' {
		i++
		skip()
		if i != len(src) {
			return fallback()
		}
		return m, nil
	}
	for {
		if i == len(src) || src[i] != '"' {
			return fallback()
		}
		i++
		start := i
		for i < len(src) && src[i] != '"' && src[i] != '\\' && src[i] >= 0x20 && src[i] < 0x80 {
			i++
		}
		if i == len(src) || src[i] != '"' {
			return fallback()
		}
		key := src[start:i]
		i++
		skip()
		if i == len(src) || src[i] != ':' {
			return fallback()
		}
		i++
		skip()
		neg := i < len(src) && src[i] == '-'
		if neg {
			i++
		}
		digits, v := 0, 0
		for i < len(src) && src[i] >= '0' && src[i] <= '9' && digits < 18 {
			v = v*10 + int(src[i]-'0')
			i++
			digits++
		}
		if digits == 0 || (digits > 1 && src[i-digits] == '0') {
			return fallback()
		}
		if neg {
			v = -v
		}
		m[string(key)] = v
		skip()
		if i == len(src) {
			return fallback()
		}
		switch src[i] {
		case ',':
			i++
			skip()
		case '}':
			i++
			skip()
			if i != len(src) {
				return fallback()
			}
			return m, nil
		default:
			return fallback()
		}
	}
}
