// Package agentnames keeps the names of agents that a store's pages have met, per account, with
// the version of the account's names that they are, so that a page whose statement read that
// version takes its agents' names without reading them for every row.
//
// A store that uses it keeps a version per account in its schema, which every change of an
// agent's name (or of an agent's account, or a deletion) increments in the transaction that
// makes it. A page reads the version in its own statement, so from its own snapshot, and takes
// kept names only of that very version: names kept at the same version are the names of the
// page's snapshot.
package agentnames

import (
	"context"
	"sync"

	"github.com/masker-dev/sessions"
)

// MaxKept is the most agent names that a Kept holds; past it, it forgets them all, so that very
// many accounts or agents do not grow a store's memory.
const MaxKept = 10_000

// Kept holds agent names by account and version. Its zero value is empty and ready to use; its
// methods are safe for concurrent use.
type Kept struct {
	mu       sync.Mutex
	accounts map[string]names
	size     int // names kept, across accounts
}

// names are the names of an account's agents at version.
type names struct {
	version int64
	byAgent map[string]string
}

// Fill sets the AgentName of each of ss, the sessions of a page of account read at version,
// from the kept names, and reports whether it found them all. When it returns false, the
// AgentNames it set are to be set again.
func (k *Kept) Fill(account string, version int64, ss []sessions.Session) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, ok := k.accounts[account]
	if !ok || n.version != version {
		return false
	}
	for i := range ss {
		name, ok := n.byAgent[ss[i].AgentID]
		if !ok {
			return false
		}
		ss[i].AgentName = name
	}
	return true
}

// Keep adds byAgent, names of account's agents at version, to the kept names, in place of
// those of another version.
func (k *Kept) Keep(account string, version int64, byAgent map[string]string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, ok := k.accounts[account]
	if ok && n.version != version {
		k.size -= len(n.byAgent)
		ok = false
	}
	if k.size+len(byAgent) > MaxKept {
		clear(k.accounts)
		k.size, ok = 0, false
	}
	if k.accounts == nil {
		k.accounts = map[string]names{}
	}
	if !ok {
		n = names{version: version, byAgent: make(map[string]string, len(byAgent))}
		k.accounts[account] = n
	}
	for id, name := range byAgent {
		if _, had := n.byAgent[id]; !had {
			k.size++
		}
		n.byAgent[id] = name
	}
}

// Read reads the current names of ids, agents of account, into names, with the version of the
// account's names that it read in the same statement (0 when it found no agent): a store's one
// query of names.
type Read func(ctx context.Context, account string, ids []string, names map[string]string) (int64, error)

// Name sets the AgentName of each of ss, the sessions of a page of account read at version, from
// the kept names (Fill), or else from one call of read for the page's distinct agents, whose
// names it then keeps (Set). It returns read's error.
func (k *Kept) Name(ctx context.Context, account string, version int64, ss []sessions.Session, read Read) error {
	if len(ss) == 0 || k.Fill(account, version, ss) {
		return nil
	}
	byAgent := map[string]string{}
	current, err := read(ctx, account, Distinct(ss), byAgent)
	if err != nil {
		return err
	}
	k.Set(account, current, byAgent, ss)
	return nil
}

// Set sets the AgentName of each of ss, the sessions of a page of account, from byAgent, the
// current names of its agents read by one statement with the account's version, and keeps them
// at that version. A statement that found no agent told no version: nothing is kept then.
func (k *Kept) Set(account string, version int64, byAgent map[string]string, ss []sessions.Session) {
	for i := range ss {
		ss[i].AgentName = byAgent[ss[i].AgentID]
	}
	if len(byAgent) > 0 {
		k.Keep(account, version, byAgent)
	}
}

// Distinct returns the distinct agent IDs of ss, in the order they first appear.
func Distinct(ss []sessions.Session) []string {
	var ids []string
	seen := map[string]bool{}
	for _, x := range ss {
		if !seen[x.AgentID] {
			seen[x.AgentID] = true
			ids = append(ids, x.AgentID)
		}
	}
	return ids
}
