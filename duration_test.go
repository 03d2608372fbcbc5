package sessions_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/masker-dev/sessions"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"1h", time.Hour},
		{"36h", 36 * time.Hour},
		{"7d", 7 * day},
		{"30d", 30 * day},
		{"2w", 14 * day},
		{"1d12h", day + 12*time.Hour},
		{"1w2d3h4m5s", 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		{"007d", 7 * day},
		{"15250w", 15250 * 7 * day},
		{"9223372036s", 9223372036 * time.Second},
	}
	for _, c := range ok {
		got, err := sessions.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []string{
		"", "0", "0s", "0d", "1d0h", "7", "d", "7x", "7D", "-7d", "+7d", " 7d", "7d ", "1.5h",
		"1h1h", "1h1d", "1s1m", "7dd", "1e3s", "７d", "16000w", "9223372037s",
		"99999999999999999999s", "9223372036854775807s", "1w1d1h1m1s1s",
	}
	for _, in := range bad {
		got, err := sessions.ParseDuration(in)
		var verr *sessions.ValidationError
		if !errors.As(err, &verr) {
			t.Errorf("ParseDuration(%q) = %v, %v; want a *ValidationError", in, got, err)
		}
	}
}

// TestParseTime checks ParseTime, and ParseSince, which parses the same way and names since in
// its error.
func TestParseTime(t *testing.T) {
	now := time.Date(2026, 5, 3, 21, 14, 32, 794_000_000, time.FixedZone("CEST", 2*3600))
	ok := []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1d12h", now.Add(-36 * time.Hour)},
		{"2026-05-03T21:14:32Z", time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)},
		{"2026-05-03T21:14:32.794Z", time.Date(2026, 5, 3, 21, 14, 32, 794e6, time.UTC)},
		{"2026-05-03T21:14:32.123456789Z", time.Date(2026, 5, 3, 21, 14, 32, 123456789, time.UTC)},
		{"2026-05-03T23:14:32+02:00", time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)},
		{"2026-05-03T23:14:32.5+02:00", time.Date(2026, 5, 3, 21, 14, 32, 5e8, time.UTC)},
		{"2026-05-03T21:14:32", time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)},
		{"2026-05-03T21:14:32.25", time.Date(2026, 5, 3, 21, 14, 32, 25e7, time.UTC)},
		{"2026-05-03t21:14:32z", time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)}, // RFC 3339, 5.6
		{"2016-12-31T23:59:60Z", time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)},    // a leap second, RFC 3339 5.6
		{"2016-12-31T23:59:60.5Z", time.Date(2017, 1, 1, 0, 0, 0, 5e8, time.UTC)},
		{"2026-05-03t23:14:32.5+02:00", time.Date(2026, 5, 3, 21, 14, 32, 5e8, time.UTC)},
		{"2026-05-03", time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)},
		{"0001-01-01", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	parsers := []struct {
		name  string
		parse func(string, time.Time) (time.Time, error)
		field string
	}{
		{"ParseTime", sessions.ParseTime, "time"},
		{"ParseSince", sessions.ParseSince, "since"},
	}
	for _, p := range parsers {
		for _, c := range ok {
			got, err := p.parse(c.in, now)
			if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("%s(%q) = %v, %v; want %v in UTC", p.name, c.in, got, err, c.want)
			}
		}
	}
	bad := []string{
		"", "7x", "0d", "-24h", "yesterday", "2026-05-32", "2026-13-01", "2026-5-3", "2026/05/03",
		"2026-05-03T25:00:00Z", "2026-05-03 21:14:32", "2026-05-03T21:14Z", "20260503", "1714770872",
		"2026-05-03T21:14:32+0200", "2026-05-03Z", "2026-05-03z", "2026-05-03x21:14:32Z",
		"2026-05-03T21:14:32+24:00", "2026-05-03T21:14:32-23:60", "2026-05-03T21:14:32.5+99:00",
		"2026-05-03T21:14:61Z",
	}
	for _, p := range parsers {
		for _, in := range bad {
			got, err := p.parse(in, now)
			var verr *sessions.ValidationError
			if !errors.As(err, &verr) || verr.Field != p.field {
				t.Errorf("%s(%q) = %v, %v; want a *ValidationError for %s", p.name, in, got, err, p.field)
			}
		}
		_, err := p.parse("7x", now)
		if want := `sessions: ` + p.field + `: "7x": want a duration like 24h or 7d, or an RFC 3339 timestamp`; err == nil || err.Error() != want {
			t.Errorf("%s(7x) error = %v, want %s", p.name, err, want)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "15m", "1h", "36h", "7d", "2w", "1d12h", "0s", "1h1h", "9223372036s", "-1d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := sessions.ParseDuration(s)
		if err != nil {
			return
		}
		if d <= 0 {
			t.Fatalf("ParseDuration(%q) = %v, want positive", s, d)
		}
		// Anything accepted parses back to the same value from its canonical form.
		back, err := sessions.ParseDuration(canonical(d))
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; canonical %q parses to %v, %v", s, d, canonical(d), back, err)
		}
	})
}

// FuzzParseTime checks that what ParseTime accepts is in UTC, parses back from its RFC 3339
// form, and is what ParseSince gives.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"24h", "7d", "2026-05-03", "2026-05-03T21:14:32Z", "2026-05-03T21:14:32.794+02:00", "2026-05-03T21:14:32", "x"} {
		f.Add(s)
	}
	now := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := sessions.ParseTime(s, now)
		since, sinceErr := sessions.ParseSince(s, now)
		if (err == nil) != (sinceErr == nil) || !since.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v, %v; ParseSince = %v, %v", s, got, err, since, sinceErr)
		}
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not UTC", s, got)
		}
		back, err := sessions.ParseTime(got.Format(time.RFC3339Nano), now)
		if err != nil || !back.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v; its RFC 3339 form parses to %v, %v", s, got, back, err)
		}
	})
}

// canonical writes d in ParseDuration's syntax, largest units first.
func canonical(d time.Duration) string {
	out := ""
	for _, u := range []struct {
		name string
		size time.Duration
	}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.size; n > 0 {
			out += fmt.Sprint(int64(n)) + u.name
			d -= n * u.size
		}
	}
	return out
}
