package kindsjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
		checkEach(t, in)
	})
}

// checkEach fails t unless Each(in) passes each kind of Parse(in) once, with its count, or
// returns Parse's error.
func checkEach(t *testing.T, in []byte) {
	t.Helper()
	want, wantErr := Parse(in)
	got := map[string]int{}
	calls := 0
	err := Each(in, func(kind []byte, n int) {
		got[string(kind)] += n
		calls++
	})
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("Each(%q) error %v, Parse error %v", in, err, wantErr)
	}
	if err == nil && (!cmp.Equal(want, got) || calls != len(want)) {
		t.Fatalf("Each(%q) passed %v in %d calls, Parse %v", in, got, calls, want)
	}
}

// TestEach checks that Each passes what Parse decodes, each kind once, in place for the text
// that the stores write and through Parse otherwise, a kind twice included.
func TestEach(t *testing.T) {
	for _, in := range []string{
		``, `{}`, `{"DOB": 1}`, `{"DOB": 1, "NAME": 2, "PHONE": 30}`, `{"A":1,"B":2}`, `{"A": 0}`,
		`{"A": 1, "A": 2}`, `{"A": 1.5}`, `{"A\u0042": 1}`, `{"A": 1,}`, `[]`, `{"A": "1"}`,
		`{"A":1,"B":1,"C":1,"D":1,"E":1,"F":1,"G":1,"H":1,"I":1,"J":1,"K":1,"L":1,"M":1,"N":1,"O":1,"P":1,"Q":1}`,
	} {
		checkEach(t, []byte(in))
	}
	text := []byte(`{"DOB": 1, "NAME": 2, "PHONE": 30}`)
	allocs := testing.AllocsPerRun(100, func() {
		Each(text, func([]byte, int) {})
	})
	if allocs != 0 {
		t.Errorf("Each of the stores' text allocates %v times, want 0", allocs)
	}
}

// TestAppend checks that Append writes what json.Marshal writes, and what Parse reads back.
func TestAppend(t *testing.T) {
	many := map[string]int{}
	for i := range 40 {
		many[fmt.Sprintf("KIND_%02d", 39-i)] = i
	}
	for _, c := range []struct {
		name  string
		kinds map[string]int
		want  string // "": json.Marshal's
	}{
		{name: "nil", kinds: nil, want: `{}`},
		{name: "empty", kinds: map[string]int{}, want: `{}`},
		{name: "sorted", kinds: map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1}, want: `{"DOB":1,"NAME":2,"PHONE":1}`},
		{name: "bytewise", kinds: map[string]int{"A_B": 1, "AB": 2, "A1": 3, "Z": 0}, want: `{"A1":3,"AB":2,"A_B":1,"Z":0}`},
		{name: "extremes", kinds: map[string]int{"MAX": math.MaxInt, "MIN": math.MinInt}},
		{name: "more keys than the scratch", kinds: many},
		{name: "escapes", kinds: map[string]int{`"`: 1, `\`: 2, "<a&b>": 3, "\n\t\x00": 4, "é": 5, "\xff": 6, "\u2028": 7}},
	} {
		got := string(Append([]byte("x"), c.kinds))
		want := c.want
		if want == "" {
			b, err := json.Marshal(c.kinds)
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if diff := cmp.Diff("x"+want, got); diff != "" {
			t.Errorf("%s: Append (-want +got):\n%s", c.name, diff)
		}
	}
}

// TestAppendAllocs checks that Append allocates nothing for validated kinds, into a buffer
// that has room: the SQL stores and httpapi call it once per session.
func TestAppendAllocs(t *testing.T) {
	kinds := map[string]int{"PHONE": 1, "NAME": 2, "DOB": 1, "SSN": 4}
	buf := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], kinds) }); n != 0 {
		t.Errorf("Append allocates %v times; want 0", n)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("NAME", 2, "PHONE", 1, "DOB", -1)
	f.Add("", 0, "<&>", 1, "\xff\u2028", 3)
	f.Fuzz(func(t *testing.T, k1 string, v1 int, k2 string, v2 int, k3 string, v3 int) {
		kinds := map[string]int{k1: v1, k2: v2, k3: v3}
		want, err := json.Marshal(kinds)
		if err != nil {
			t.Fatal(err)
		}
		got := Append(nil, kinds)
		if !bytes.Equal(want, got) {
			t.Fatalf("Append(%v) = %s; json.Marshal %s", kinds, got, want)
		}
		back, err := Parse(got)
		var viaJSON map[string]int
		if jsonErr := json.Unmarshal(got, &viaJSON); err != nil || jsonErr != nil || !cmp.Equal(viaJSON, back) {
			t.Fatalf("Parse(%s) = %v, %v; json.Unmarshal %v, %v", got, back, err, viaJSON, jsonErr)
		}
	})
}

// TestSums checks that Sums sums the counts of each text by kind, skips zeros, returns the
// errors of bad text, and allocates nothing for kinds that it holds already.
func TestSums(t *testing.T) {
	var sums Sums
	for _, in := range []string{`{"DOB": 1, "NAME": 2}`, `{}`, `{"NAME": 3, "SSN": 0}`, `{"A\u0042": 1}`} {
		if err := sums.Add([]byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int64{"MRN": 1}
	sums.AddTo(got)
	if diff := cmp.Diff(map[string]int64{"DOB": 1, "NAME": 5, "AB": 1, "MRN": 1}, got); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	if err := sums.Add([]byte(`{"A": 1.5}`)); err == nil {
		t.Errorf("Add of a count that is not whole returned no error")
	}
	text := []byte(`{"DOB": 1, "NAME": 2}`)
	if allocs := testing.AllocsPerRun(100, func() { sums.Add(text) }); allocs != 0 {
		t.Errorf("Add of kinds held already allocates %v times, want 0", allocs)
	}
}

func TestSumsAddObjects(t *testing.T) {
	var sums Sums
	in := `{"DOB":1,"NAME":2}{}{"NAME":3,"SSN":0}{"A\"}":1}` + "\n"
	if err := sums.AddObjects([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if err := sums.AddObjects(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	sums.AddTo(got)
	if diff := cmp.Diff(map[string]int64{"DOB": 1, "NAME": 5, `A"}`: 1}, got); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"DOB":1}{"NAME":2`, `{"DOB":1}x`, `{"DOB":1.5}`} {
		if err := sums.AddObjects([]byte(bad)); err == nil {
			t.Errorf("AddObjects(%s) returned no error", bad)
		}
	}
}
