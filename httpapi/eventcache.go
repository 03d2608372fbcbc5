package httpapi

import (
	"hash/maphash"
	"maps"
	"sync"

	"github.com/masker-dev/sessions"
)

// eventCache keeps the events that the streams of a Handler wrote last, so that streams that
// follow one feed with the same filters encode and sign each event once between them, rather
// than once each: such streams send the same event for the same session at the same position
// (the same data, and the same resume token, which holds the route, account, agent, filters and
// position, sealed with the same key). With 200 streams of one account, that is the JSON
// encoding and the sealing of 199 events of every 200.
//
// An event is found by its stream (the token fields that every event of the stream shares) and
// its position, and used only for a session equal to the one it was made of: a position is one
// write of one session, but the store fills AgentName when it reads, so a rename shows. The cache
// holds at most eventCacheShards*eventShardLen events, the newest. It is safe for concurrent use.
type eventCache struct {
	seed   maphash.Seed
	shards [eventCacheShards]eventShard
}

// eventCacheShards and eventShardLen size an eventCache: 1,024 events of about half a KiB.
const (
	eventCacheShards = 16
	eventShardLen    = 64
)

// eventShard is a part of an eventCache: a map, and the ring of its keys in the order they came,
// the oldest at next, dropped when the ring is full.
type eventShard struct {
	mu     sync.RWMutex
	events map[eventKey]cachedEvent
	ring   [eventShardLen]eventKey
	next   int
}

type eventKey struct {
	stream   string // what a stream's tokens share: resumeSigner.stream
	position string
}

type cachedEvent struct {
	s     sessions.Session
	event []byte // as sseWriter.addEvent wrote it; never changed
}

func newEventCache() *eventCache { return &eventCache{seed: maphash.MakeSeed()} }

func (c *eventCache) shard(k eventKey) *eventShard {
	return &c.shards[maphash.String(c.seed, k.position)%eventCacheShards]
}

// get returns the event of k, when it was made of a session equal to s, or nil. The caller
// must not change it.
func (c *eventCache) get(k eventKey, s *sessions.Session) []byte {
	sh := c.shard(k)
	sh.mu.RLock()
	e, ok := sh.events[k]
	sh.mu.RUnlock()
	if !ok || !sameSession(&e.s, s) {
		return nil
	}
	return e.event
}

// put keeps event, made of s, as the event of k, in place of the oldest when the cache is full.
// It keeps event and s's map: the caller must not change them afterwards.
func (c *eventCache) put(k eventKey, s sessions.Session, event []byte) {
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.events == nil {
		sh.events = make(map[eventKey]cachedEvent, eventShardLen)
	}
	if _, ok := sh.events[k]; ok { // another stream put it first, or the agent's name changed
		sh.events[k] = cachedEvent{s, event}
		return
	}
	delete(sh.events, sh.ring[sh.next]) // the oldest, when the ring is full
	sh.ring[sh.next] = k
	sh.next = (sh.next + 1) % eventShardLen
	sh.events[k] = cachedEvent{s, event}
}

// sameSession reports whether a and b encode to the same item of /api/v1/sessions: every field.
func sameSession(a, b *sessions.Session) bool {
	return a.ID == b.ID && a.AccountID == b.AccountID && a.AgentID == b.AgentID &&
		a.StartedAt.Equal(b.StartedAt) && a.EndedAt.Equal(b.EndedAt) && a.Status == b.Status &&
		a.UpstreamModel == b.UpstreamModel && a.AgentName == b.AgentName &&
		maps.Equal(a.RedactionsByKind, b.RedactionsByKind)
}
