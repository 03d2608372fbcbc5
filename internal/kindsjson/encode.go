package kindsjson

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Append appends kinds (a session's counts, or a summary's sums) to dst as the compact JSON
// object that json.Marshal writes for it, keys sorted bytewise: {"NAME":2,"PHONE":1}. A nil or
// empty map is {}, never null. It allocates nothing for a map of up to 16 keys that need no
// escape in JSON, as every validated kind (^[A-Z][A-Z0-9_]{0,31}$) does; another key is escaped
// by encoding/json. It is safe for concurrent use.
func Append[N int | int64](dst []byte, kinds map[string]N) []byte {
	// One pass over the map, each entry sorted into place as it comes: maps of kinds are small,
	// and a lookup per key or a generic sort cost more than these few comparisons.
	var scratch [16]entry
	es := scratch[:0]
	for k, n := range kinds {
		es = append(es, entry{k, int64(n)})
		for i := len(es) - 1; i > 0 && es[i].kind < es[i-1].kind && len(es) <= len(scratch); i-- {
			es[i], es[i-1] = es[i-1], es[i]
		}
	}
	if len(es) > len(scratch) {
		slices.SortFunc(es, func(x, y entry) int { return strings.Compare(x.kind, y.kind) })
	}
	dst = append(dst, '{')
	for i, e := range es {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendKey(dst, e.kind)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, e.n, 10)
	}
	return append(dst, '}')
}

// entry is one kind and its count.
type entry struct {
	kind string
	n    int64
}

// appendKey appends k as a JSON string. A key of printable ASCII with nothing that
// encoding/json escapes (quote, backslash, and <, > and & for HTML) is written as it is; any
// other key is written by json.Marshal, so that the result is always encoding/json's.
func appendKey(dst []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(k) // a string always marshals
			return append(dst, q...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"')
}
