// Package kindsjson decodes (Parse) and encodes (Append) the redactions_by_kind column that the
// SQL stores keep as JSON, in a fraction of the time and allocations of encoding/json, and always
// to the same result.
package kindsjson

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Parse decodes the text of a JSON object of whole numbers, as PostgreSQL writes jsonb ({"DOB": 1,
// "NAME": 2}) and SQLite's json functions write text ({"DOB":1,"NAME":2}), into a map that is never
// nil. What it does not expect (escapes, other values, other spacing) it hands to encoding/json, so
// that its result is always json.Unmarshal's.
func Parse(src []byte) (map[string]int, error) {
	n := 0
	for _, c := range src {
		if c == ':' {
			n++
		}
	}
	m := make(map[string]int, n)
	sc := scanner{src: src}
	for {
		key, v, ok := sc.next()
		if !ok {
			break
		}
		m[string(key)] = v
	}
	if !sc.failed {
		return m, nil
	}
	clear(m)
	if err := json.Unmarshal(src, &m); err != nil {
		return nil, fmt.Errorf("redactions_by_kind %q: %w", src, err)
	}
	if m == nil {
		m = map[string]int{}
	}
	return m, nil
}

// maxEach is the most members that Each reads in place; an object with more goes through Parse.
const maxEach = 16

// Each calls fn with each kind and count of src, as Parse decodes them, without making a map:
// the text that the stores write is read in place, and fn's kind is only valid during the
// call. What Parse would hand to encoding/json (and an object with a kind twice, or more than
// 16 kinds) goes through Parse, whose error it returns.
func Each(src []byte, fn func(kind []byte, n int)) error {
	var members [maxEach]struct {
		key []byte
		v   int
	}
	count := 0
	sc := scanner{src: src}
	for count <= maxEach {
		key, v, ok := sc.next()
		if !ok {
			break
		}
		if count < maxEach {
			members[count].key, members[count].v = key, v
		}
		count++
	}
	inPlace := !sc.failed && count <= maxEach
	for i := 0; inPlace && i < count; i++ {
		for j := range i {
			if string(members[i].key) == string(members[j].key) {
				inPlace = false
			}
		}
	}
	if !inPlace {
		m, err := Parse(src)
		if err != nil {
			return err
		}
		for kind, n := range m {
			fn([]byte(kind), n)
		}
		return nil
	}
	for _, x := range members[:count] {
		fn(x.key, x.v)
	}
	return nil
}

// scanner reads src as the canonical text of a JSON object of whole numbers, member by member
// (next). It fails (failed) on any text that it does not expect (escapes, other values, other
// spacing), which encoding/json must decode. An empty src is the empty object.
type scanner struct {
	src    []byte
	i      int
	opened bool // past the '{'
	done   bool // the object ended, or failed
	failed bool
}

// skip moves past spaces.
func (sc *scanner) skip() {
	for sc.i < len(sc.src) && sc.src[sc.i] == ' ' {
		sc.i++
	}
}

// fail ends the scan as failed.
func (sc *scanner) fail() ([]byte, int, bool) {
	sc.done, sc.failed = true, true
	return nil, 0, false
}

// end ends the scan at the object's '}', which must end src but for spaces.
func (sc *scanner) end() ([]byte, int, bool) {
	sc.i++
	sc.skip()
	if sc.i != len(sc.src) {
		return sc.fail()
	}
	sc.done = true
	return nil, 0, false
}

// next returns the next member, or ok false at the end of the object or when the scan fails.
func (sc *scanner) next() (key []byte, v int, ok bool) {
	src := sc.src
	if sc.done || len(src) == 0 {
		sc.done = true
		return nil, 0, false
	}
	if !sc.opened {
		sc.opened = true
		sc.skip()
		if sc.i == len(src) || src[sc.i] != '{' {
			return sc.fail()
		}
		sc.i++
		sc.skip()
		if sc.i < len(src) && src[sc.i] == '}' {
			return sc.end()
		}
	}
	i := sc.i
	if i == len(src) || src[i] != '"' {
		return sc.fail()
	}
	i++
	start := i
	for i < len(src) && src[i] != '"' && src[i] != '\\' && src[i] >= 0x20 && src[i] < 0x80 {
		i++
	}
	if i == len(src) || src[i] != '"' {
		return sc.fail()
	}
	key = src[start:i]
	sc.i = i + 1
	sc.skip()
	if sc.i == len(src) || src[sc.i] != ':' {
		return sc.fail()
	}
	sc.i++
	sc.skip()
	i = sc.i
	neg := i < len(src) && src[i] == '-'
	if neg {
		i++
	}
	digits := 0
	for i < len(src) && src[i] >= '0' && src[i] <= '9' && digits < 18 {
		v = v*10 + int(src[i]-'0')
		i++
		digits++
	}
	if digits == 0 || (digits > 1 && src[i-digits] == '0') {
		return sc.fail()
	}
	if neg {
		v = -v
	}
	sc.i = i
	sc.skip()
	if sc.i == len(src) {
		return sc.fail()
	}
	switch src[sc.i] {
	case ',':
		sc.i++
		sc.skip()
	case '}':
		if _, _, ok := sc.end(); !ok && sc.failed {
			return sc.fail()
		}
		sc.done = true
	default:
		return sc.fail()
	}
	return key, v, true
}

// Sums sums the counts of many texts by kind, allocating only for each kind it meets first: the
// kinds of the rollup rows of a summary. The zero value is ready to use.
type Sums struct {
	kinds []string
	sums  []int64
}

// Add adds the counts of src, as Each reads them, skipping zero counts, as sessions.Summary.Add
// does. It returns Each's error.
func (s *Sums) Add(src []byte) error {
	return Each(src, func(kind []byte, n int) {
		if n == 0 {
			return
		}
		for i, k := range s.kinds {
			if k == string(kind) {
				s.sums[i] += int64(n)
				return
			}
		}
		s.kinds = append(s.kinds, string(kind))
		s.sums = append(s.sums, int64(n))
	})
}

// AddObjects adds the counts of each object of src, objects written one after the other
// without separators (what SQLite's group_concat of the rollup rows' kinds makes with an empty
// separator), as Add does for one. An empty src adds nothing. It returns Add's error, or an error when src does not
// end with an object's closing brace.
func (s *Sums) AddObjects(src []byte) error {
	start, inString, escaped := 0, false, false
	for i, c := range src {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && c == '}':
			if err := s.Add(src[start : i+1]); err != nil {
				return err
			}
			start = i + 1
		}
	}
	if len(bytes.TrimSpace(src[start:])) > 0 {
		return fmt.Errorf("redactions_by_kind: %q after the last object", src[start:])
	}
	return nil
}

// AddTo adds the sums to dst, leaving out those that are zero.
func (s *Sums) AddTo(dst map[string]int64) {
	for i, kind := range s.kinds {
		if s.sums[i] != 0 {
			dst[kind] += s.sums[i]
		}
	}
}
