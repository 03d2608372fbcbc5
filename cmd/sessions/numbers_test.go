package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFlagsAsTheAPIReadsThem checks that numbers are read in base 10, as the API reads its
// parameters (flag.Int read --min-redactions 010 as 8 and sent min_redactions=8), and that an
// empty --agent is refused rather than read as every agent of the account.
func TestFlagsAsTheAPIReadsThem(t *testing.T) {
	rec, url := newRecorder(t)
	env := []string{"SESSIONS_URL=" + url, "SESSIONS_TOKEN=t"}
	for _, tc := range []struct {
		args []string
		code int
		want []string // the requests
	}{
		{[]string{"list", "--min-redactions", "010", "--limit", "010"}, 0, []string{"/api/v1/sessions?limit=10&min_redactions=10 cookie= auth=Bearer t"}},
		{[]string{"list", "--min-redactions", "0x10"}, exitUsage, nil},
		{[]string{"list", "--limit", "0x10"}, exitUsage, nil},
		{[]string{"summary", "--min-redactions", "1_0"}, exitUsage, nil},
		{[]string{"list", "--agent", ""}, exitUsage, nil},
		{[]string{"summary", "--agent="}, exitUsage, nil},
		{[]string{"export", "--agent", ""}, exitUsage, nil},
	} {
		r := runCLI(t, env, tc.args...)
		if r.code != tc.code {
			t.Errorf("%q: exit %d (%q), want %d", tc.args, r.code, r.stderr, tc.code)
		}
		if diff := cmp.Diff(tc.want, rec.take()); diff != "" {
			t.Errorf("%q: requests (-want +got):\n%s", tc.args, diff)
		}
	}
}
