package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadAndDraw(t *testing.T) {
	in := `goos: linux
BenchmarkSQLiteDepth/keyset/page=1-2         	    1000	    120000 ns/op	  100.0 rows/op
BenchmarkSQLiteDepth/offset/page=1000-2      	      10	  30000000 ns/op
BenchmarkSQLiteDepth/offset/page=1-2         	    1000	    110000 ns/op
BenchmarkSQLiteList/agent/first/limit=25-2   	    1000	    110000 ns/op
`
	series, err := read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]point{
		"SQLite keyset": {{1, 120000}},
		"SQLite offset": {{1000, 3e7}, {1, 110000}},
	}
	if diff := cmp.Diff(want, series, cmp.AllowUnexported(point{})); diff != "" {
		t.Errorf("read (-want +got):\n%s", diff)
	}
	var svg strings.Builder
	draw(&svg, series)
	for _, s := range []string{"<svg", "SQLite keyset", "SQLite offset", "stroke-dasharray", "</svg>"} {
		if !strings.Contains(svg.String(), s) {
			t.Errorf("SVG lacks %q", s)
		}
	}
}
