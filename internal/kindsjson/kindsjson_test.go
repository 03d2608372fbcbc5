package kindsjson

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParse checks that Parse gives what json.Unmarshal gives, on the text that
// PostgreSQL and SQLite write and on text it never writes (which takes the fallback).
func TestParse(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"DOB": 1}`, `{"DOB": 1, "NAME": 2, "PHONE": 30}`, `{"A":1,"B":2}`,
		`{"X_1": 9223372036854775807}`, `{"A": -3}`, `{"A": 0}`, `{"A": -0}`,
		`{"A": 1.5}`, `{"A": 1e3}`, `{"A": 01}`, `{"A\u0042": 1}`, `{"é": 1}`, `{"A": "1"}`,
		`{"A": 1,}`, `{"A": 1} x`, `{"A" 1}`, `{"A": }`, `[]`, `null`, ``, `{"A": 1, "A": 2}`,
		`{"A": 123456789012345678901}`, `{"A":1}` + "\n",
	} {
		got, gotErr := Parse([]byte(in))
		var want map[string]int
		wantErr := json.Unmarshal([]byte(in), &want)
		if in == "" || in == "null" {
			want, wantErr = map[string]int{}, nil // what a NOT NULL jsonb column never holds
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("Parse(%q) error %v, json.Unmarshal error %v", in, gotErr, wantErr)
			continue
		}
		if gotErr != nil {
			continue
		}
		if got == nil {
			t.Errorf("Parse(%q) = nil map", in)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parse(%q) (-json.Unmarshal +got):\n%s", in, diff)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `{"DOB": 1, "NAME": 2}`, `{"A": -0}`, `{"A": 1e3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gotErr := Parse(in)
		var want map[string]int
		wantErr := json.Unmarshal(in, &want)
		if wantErr == nil && want == nil {
			want = map[string]int{}
		}
		if len(in) == 0 {
			return
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("Parse(%q) error %v, json.Unmarshal error %v", in, gotErr, wantErr)
		}
		if gotErr == nil && !cmp.Equal(want, got) {
			t.Fatalf("Parse(%q) = %v, json.Unmarshal %v", in, got, want)
		}
	})
}
