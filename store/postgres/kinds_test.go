package postgres

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseKinds checks that parseKinds gives what json.Unmarshal gives, on the text that
// PostgreSQL writes for jsonb and on text it never writes (which takes the fallback).
func TestParseKinds(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"DOB": 1}`, `{"DOB": 1, "NAME": 2, "PHONE": 30}`, `{"A":1,"B":2}`,
		`{"X_1": 9223372036854775807}`, `{"A": -3}`, `{"A": 0}`, `{"A": -0}`,
		`{"A": 1.5}`, `{"A": 1e3}`, `{"A": 01}`, `{"A\u0042": 1}`, `{"é": 1}`, `{"A": "1"}`,
		`{"A": 1,}`, `{"A": 1} x`, `{"A" 1}`, `{"A": }`, `[]`, `null`, ``, `{"A": 1, "A": 2}`,
		`{"A": 123456789012345678901}`, `{"A":1}` + "\n",
	} {
		got, gotErr := parseKinds([]byte(in))
		var want map[string]int
		wantErr := json.Unmarshal([]byte(in), &want)
		if in == "" || in == "null" {
			want, wantErr = map[string]int{}, nil // what a NOT NULL jsonb column never holds
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Errorf("parseKinds(%q) error %v, json.Unmarshal error %v", in, gotErr, wantErr)
			continue
		}
		if gotErr != nil {
			continue
		}
		if got == nil {
			t.Errorf("parseKinds(%q) = nil map", in)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("parseKinds(%q) (-json.Unmarshal +got):\n%s", in, diff)
		}
	}
}

func FuzzParseKinds(f *testing.F) {
	for _, s := range []string{`{}`, `{"DOB": 1, "NAME": 2}`, `{"A": -0}`, `{"A": 1e3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, gotErr := parseKinds(in)
		var want map[string]int
		wantErr := json.Unmarshal(in, &want)
		if wantErr == nil && want == nil {
			want = map[string]int{}
		}
		if len(in) == 0 {
			return
		}
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("parseKinds(%q) error %v, json.Unmarshal error %v", in, gotErr, wantErr)
		}
		if gotErr == nil && !cmp.Equal(want, got) {
			t.Fatalf("parseKinds(%q) = %v, json.Unmarshal %v", in, got, want)
		}
	})
}
