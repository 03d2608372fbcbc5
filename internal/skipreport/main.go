// Command skipreport reads the output of `go test -json` on its standard input, prints what
// `go test` prints without -json (each package's result, and the output of the tests that
// failed), then every skipped test with its reason, and a closing line "N passed, N failed,
// N skipped". It exits non-zero when a test failed, a package did not build, or a test was
// skipped for a reason that the file named by -expected does not list: under CI a skipped test
// must not pass unseen. .ci/run pipes the README's test command into it.
//
// The expected-skips file holds one regular expression a line, matched against
// "PACKAGE TEST: REASON"; blank lines and lines starting with # are ignored.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output events
	Test       string
	Output     string
}

// skip is a skipped test and the reason it printed.
type skip struct{ pkg, test, reason string }

func main() {
	expectedFile := flag.String("expected", "", "a file of regular expressions of the expected skips")
	flag.Parse()
	var expected []*regexp.Regexp
	if *expectedFile != "" {
		var err error
		if expected, err = readPatterns(*expectedFile); err != nil {
			fmt.Fprintln(os.Stderr, "skipreport:", err)
			os.Exit(2)
		}
	}
	ok, err := report(os.Stdin, os.Stdout, expected)
	if err != nil {
		fmt.Fprintln(os.Stderr, "skipreport:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func readPatterns(name string) ([]*regexp.Regexp, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []*regexp.Regexp
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		re, err := regexp.Compile(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, re)
	}
	return out, nil
}

// report reads test2json events from r and writes the summary to w. It reports whether the run
// passed: no failure, no build error, and no skip that expected does not match.
func report(r io.Reader, w io.Writer, expected []*regexp.Regexp) (bool, error) {
	outputs := map[string][]string{} // package + test -> its output lines
	var skips []skip
	passed, failed := 0, 0
	ok := true
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(w, sc.Text()) // not JSON: go's own messages, as they are
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			ok = false
		case e.Action == "output" && e.Test == "":
			if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "pass" && e.Test != "":
			passed++
			delete(outputs, key)
		case e.Action == "fail" && e.Test != "":
			failed++
			ok = false
			for _, line := range outputs[key] {
				fmt.Fprint(w, line)
			}
			delete(outputs, key)
		case e.Action == "fail":
			ok = false
		case e.Action == "skip" && e.Test != "":
			skips = append(skips, skip{e.Package, e.Test, reason(outputs[key])})
			delete(outputs, key)
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "\nskipped tests (%d):\n", len(skips))
	}
	for _, s := range skips {
		line := s.pkg + " " + s.test + ": " + s.reason
		verdict := "UNEXPECTED"
		for _, re := range expected {
			if re.MatchString(line) {
				verdict = "expected"
				break
			}
		}
		if verdict == "UNEXPECTED" {
			ok = false
		}
		fmt.Fprintf(w, "  %-10s %s\n", verdict, line)
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", passed, failed, len(skips))
	return ok, nil
}

// reason returns the message of a skipped test: its output without the lines that go test
// writes itself.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " | ")
}
