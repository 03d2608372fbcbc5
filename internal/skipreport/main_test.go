package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReport(t *testing.T) {
	const stream = `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"run","Package":"p","Test":"TestB"}
{"Action":"output","Package":"p","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:9: no database here\n"}
{"Action":"output","Package":"p","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
{"Action":"run","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: got 1, want 2\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"output","Package":"p","Output":"FAIL\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.1s\n"}
{"Action":"fail","Package":"p"}
`
	tests := []struct {
		name     string
		stream   string
		expected []*regexp.Regexp
		wantOK   bool
		wantOut  string
	}{
		{
			name:   "a failure and an unexpected skip",
			stream: stream,
			wantOut: "    c_test.go:3: got 1, want 2\nFAIL\nFAIL\tp\t0.1s\n\nskipped tests (1):\n" +
				"  UNEXPECTED p TestB: b_test.go:9: no database here\n\n1 passed, 1 failed, 1 skipped\n",
		},
		{
			name:     "an expected skip only",
			stream:   strings.Join(strings.Split(stream, "\n")[:9], "\n") + "\n",
			expected: []*regexp.Regexp{regexp.MustCompile(`^p TestB: .*no database`)},
			wantOK:   true,
			wantOut:  "\nskipped tests (1):\n  expected   p TestB: b_test.go:9: no database here\n\n1 passed, 0 failed, 1 skipped\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			ok, err := report(strings.NewReader(tt.stream), &out, tt.expected)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %t, want %t", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.wantOut, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}
