package httpapi

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/masker-dev/sessions"
)

// TestEventCache checks that a cached event is found by its stream and position, for an equal
// session only, and that the oldest events go when the cache is full.
func TestEventCache(t *testing.T) {
	s := session(accountA, "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", time.Minute)
	s.AgentName = "Front desk"
	renamed := s
	renamed.AgentName = "Back office"
	other := session(accountA, "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", 2*time.Minute)
	c := newEventCache()
	c.put(eventKey{"stream-1", "7"}, s, []byte("event 7"))
	for _, tc := range []struct {
		name string
		key  eventKey
		s    sessions.Session
		want string // "": not found
	}{
		{"same stream, position and session", eventKey{"stream-1", "7"}, s, "event 7"},
		{"another stream", eventKey{"stream-2", "7"}, s, ""},
		{"another position", eventKey{"stream-1", "8"}, s, ""},
		{"the agent renamed", eventKey{"stream-1", "7"}, renamed, ""},
		{"another session", eventKey{"stream-1", "7"}, other, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(c.get(tc.key, &tc.s))); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}

	// Fill the cache many times over: the newest events stay, the oldest go.
	const n = 4 * eventCacheShards * eventShardLen
	for i := range n {
		c.put(eventKey{"stream-1", strconv.Itoa(1000 + i)}, s, []byte("event"))
	}
	kept := 0
	for i := range n {
		if c.get(eventKey{"stream-1", strconv.Itoa(1000 + i)}, &s) != nil {
			kept++
		}
	}
	if kept > eventCacheShards*eventShardLen {
		t.Errorf("%d events kept, want at most %d", kept, eventCacheShards*eventShardLen)
	}
	if c.get(eventKey{"stream-1", strconv.Itoa(1000 + n - 1)}, &s) == nil {
		t.Error("the newest event is gone")
	}
	if c.get(eventKey{"stream-1", "7"}, &s) != nil {
		t.Error("the oldest event is still there")
	}
}

// TestSameSessionCoversFields checks that sameSession tells apart two sessions that differ in
// any one field of sessions.Session, so that a field added to it is not left out.
func TestSameSessionCoversFields(t *testing.T) {
	a := session(accountA, "agt_01HYZ3N5TV0QW3Y0B7VQ6J3RFA", time.Minute)
	a.UpstreamModel, a.AgentName = "gpt-4o-mini", "Front desk"
	if !sameSession(&a, &a) {
		t.Fatal("a session differs from itself")
	}
	typ := reflect.TypeFor[sessions.Session]()
	for i := range typ.NumField() {
		b := a
		b.RedactionsByKind = map[string]int{"PHONE": 1}
		f := reflect.ValueOf(&b).Elem().Field(i)
		switch v := f.Interface().(type) {
		case string:
			f.SetString(v + "x")
		case sessions.Status:
			f.SetString(string(v) + "x")
		case time.Time:
			f.Set(reflect.ValueOf(v.Add(time.Millisecond)))
		case map[string]int:
			f.Set(reflect.ValueOf(map[string]int{"PHONE": 2}))
		default:
			t.Fatalf("field %s of type %s: teach this test, and sameSession, to compare it", typ.Field(i).Name, f.Type())
		}
		if sameSession(&a, &b) {
			t.Errorf("sessions that differ in %s are taken as the same", typ.Field(i).Name)
		}
	}
}
