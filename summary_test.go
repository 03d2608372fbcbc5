package sessions_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masker-dev/sessions"
)

func TestSummaryAdd(t *testing.T) {
	start := time.Date(2026, 5, 3, 21, 14, 32, 0, time.UTC)
	m := sessions.NewSummary()
	m.Add(sessions.Session{Status: sessions.StatusOK, StartedAt: start, EndedAt: start.Add(time.Minute),
		RedactionsByKind: map[string]int{"NAME": 2, "PHONE": 1}})
	m.Add(sessions.Session{Status: sessions.StatusPartial, StartedAt: start, EndedAt: start.Add(time.Second),
		RedactionsByKind: map[string]int{"NAME": 1, "DOB": 0}})
	want := sessions.Summary{
		Sessions:         2,
		ByStatus:         map[sessions.Status]int64{"ok": 1, "error": 0, "partial": 1},
		RedactionCount:   4,
		RedactionsByKind: map[string]int64{"NAME": 3, "PHONE": 1},
		Duration:         61 * time.Second,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestSummaryFilter(t *testing.T) {
	after := &sessions.Cursor{StartedAt: time.Unix(10, 0)}
	f, err := sessions.SummaryFilter(sessions.Filter{AccountID: "acct_1", Limit: 500, After: after,
		Since: time.Unix(100, 1)})
	if err != nil {
		t.Fatalf("SummaryFilter ignores Limit and After, got %v", err)
	}
	if f.After != nil || !f.Since.Equal(time.Unix(100, 1e6)) {
		t.Errorf("SummaryFilter = %+v, want After nil and Since rounded up to the millisecond", f)
	}
	var ve *sessions.ValidationError
	if _, err := sessions.SummaryFilter(sessions.Filter{}); !errors.As(err, &ve) || ve.Field != "AccountID" {
		t.Errorf("SummaryFilter(no account) = %v, want a ValidationError on AccountID", err)
	}
}

func TestTailFilter(t *testing.T) {
	ok := sessions.Filter{AccountID: "acct_1", Status: sessions.StatusError, MinRedactions: 2}
	if _, err := sessions.TailFilter(ok); err != nil {
		t.Errorf("TailFilter(%+v) = %v", ok, err)
	}
	for field, f := range map[string]sessions.Filter{
		"Since":     {AccountID: "acct_1", Since: time.Unix(1, 0)},
		"Until":     {AccountID: "acct_1", Until: time.Unix(1, 0)},
		"Limit":     {AccountID: "acct_1", Limit: 1},
		"After":     {AccountID: "acct_1", After: &sessions.Cursor{}},
		"AccountID": {},
		"Status":    {AccountID: "acct_1", Status: "bad"},
	} {
		var ve *sessions.ValidationError
		if _, err := sessions.TailFilter(f); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("TailFilter(%+v) = %v, want a ValidationError on %s", f, err, field)
		}
	}
}

// TestSummaryZeroValue checks that Add folds into a zero Summary as into NewSummary's.
func TestSummaryZeroValue(t *testing.T) {
	s := sessions.Session{Status: sessions.StatusError, StartedAt: time.Unix(0, 0), EndedAt: time.Unix(60, 0),
		RedactionsByKind: map[string]int{"NAME": 2}}
	var zero sessions.Summary
	zero.Add(s)
	want := sessions.NewSummary()
	want.Add(s)
	if !reflect.DeepEqual(zero, want) {
		t.Errorf("Add to a zero Summary = %+v, want %+v", zero, want)
	}
}

// TestNewPageLimitBelowOne checks that NewPage takes a limit below 1 as DefaultLimit, as a
// Filter's Limit of 0 is, rather than panic.
func TestNewPageLimitBelowOne(t *testing.T) {
	ss := make([]sessions.Session, sessions.DefaultLimit+1)
	for i := range ss {
		at := time.Unix(int64(1000-i), 0)
		ss[i] = sessions.Session{ID: sessions.NewSessionID(at), StartedAt: at}
	}
	for _, limit := range []int{0, -1} {
		p := sessions.NewPage(ss, limit)
		if len(p.Sessions) != sessions.DefaultLimit || p.Next == nil {
			t.Errorf("NewPage(%d sessions, %d) = %d sessions, Next %v", len(ss), limit, len(p.Sessions), p.Next)
		}
	}
}
