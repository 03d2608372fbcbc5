package sessions

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// The prefixes of agent and session IDs.
const (
	AgentIDPrefix   = "agt_"
	SessionIDPrefix = "sess_"
)

// The monotonic sources of the IDs of this process: agents' and sessions' apart, so that the
// sessions' times (any time, often in the past) do not break the order of the agents' (now).
var agentIDs, sessionIDs = newSource(), newSource()

// NewAgentID returns a new agent ID: "agt_" and a ULID of the current time. IDs made in the same
// millisecond by one process sort in the order they were made. It is safe for concurrent use.
func NewAgentID() string { return AgentIDPrefix + agentIDs.ulid(time.Now()) }

// NewSessionID returns a new session ID: "sess_" and a ULID of the time t (usually the session's
// StartedAt), taken as the Unix epoch before 1970 and as the ULID's last millisecond (year
// 10889) after it. Consecutive IDs made for the same millisecond by one process sort in the
// order they were made (an ID made for another millisecond between them starts the order
// afresh). It is safe for concurrent use.
func NewSessionID(t time.Time) string { return SessionIDPrefix + sessionIDs.ulid(t) }

// SessionIDFor returns the session ID of a call that the voice platform already names, such as a
// Twilio CallSid or a Vapi or Retell call ID: "sess_" and a ULID derived from the two arguments
// alone (their SHA-256 hash), so that recording the same call again, from any process, is an
// idempotent upsert. The result satisfies IsSessionID; different accounts, or different external
// IDs, give different IDs (short of a collision of 128 bits of SHA-256). Unlike NewSessionID,
// the ULID's time part carries no time: it sorts nowhere in particular, which the list order,
// by StartedAt first, does not mind. It is safe for concurrent use.
func SessionIDFor(accountID, externalID string) string {
	h := sha256.New()
	h.Write([]byte("sessions.SessionIDFor\x00"))
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(accountID)))])
	h.Write([]byte(accountID))
	h.Write([]byte(externalID))
	var id ulid.ULID
	copy(id[:], h.Sum(nil))
	return SessionIDPrefix + id.String()
}

// source is a monotonic source of ULIDs.
type source struct {
	mu      sync.Mutex
	entropy io.Reader
}

func newSource() *source { return &source{entropy: ulid.Monotonic(rand.Reader, 0)} }

// ulid returns a new ULID of the time t, clamped to the times a ULID holds.
func (src *source) ulid(t time.Time) string {
	var ms uint64
	switch {
	case t.Before(time.UnixMilli(0)):
		ms = 0
	case t.After(ulid.Time(ulid.MaxTime())):
		ms = ulid.MaxTime()
	default:
		ms = ulid.Timestamp(t)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	id, err := ulid.New(ms, src.entropy)
	if err != nil {
		// The monotonic source overflowed within one millisecond (2^80 IDs), or the system's
		// random source failed: start a fresh monotonic sequence and try once more.
		src.entropy = ulid.Monotonic(rand.Reader, 0)
		id = ulid.MustNew(ms, src.entropy)
	}
	return id.String()
}

// IsAgentID reports whether s is a well-formed agent ID: "agt_" and a ULID in canonical form
// (26 upper-case Crockford base32 characters).
func IsAgentID(s string) bool { return hasULID(s, AgentIDPrefix) }

// IsSessionID reports whether s is a well-formed session ID: "sess_" and a ULID in canonical
// form (26 upper-case Crockford base32 characters).
func IsSessionID(s string) bool { return hasULID(s, SessionIDPrefix) }

func hasULID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != ulid.EncodedSize || rest[0] > '7' {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !crockford[rest[i]] {
			return false
		}
	}
	return true
}

// crockford marks the bytes of Crockford's base32 alphabet in upper case.
var crockford = func() (set [256]bool) {
	for _, c := range "0123456789ABCDEFGHJKMNPQRSTVWXYZ" {
		set[c] = true
	}
	return set
}()
