package postgres

import (
	"context"
	"sync"

	"github.com/masker-dev/sessions"
)

// maxKeptNames is the most agent names that a store keeps for its account-wide pages; past it,
// it forgets them all and reads them again, so that very many accounts or agents do not grow
// its memory.
const maxKeptNames = 10_000

// names keeps the names of the agents that a store's account-wide pages have met, per account,
// with the version of the account's names that they are (agent_names_versions, migration 0007).
// A page reads that version in its own statement, so from its own snapshot, and takes kept
// names only of that very version: every change of a name adds one to its account's version in
// the transaction that makes it, so names of the same version are the names of the page's
// snapshot. Its methods are safe for concurrent use.
type names struct {
	mu       sync.Mutex
	accounts map[string]keptNames
	size     int // names kept, across accounts
}

// keptNames are the names of an account's agents at version.
type keptNames struct {
	version int64
	byAgent map[string]string
}

// fill sets the AgentName of each of ss, the sessions of account's page read at version, from
// the kept names, and reports whether it found them all.
func (n *names) fill(account string, version int64, ss []sessions.Session) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k, ok := n.accounts[account]
	if !ok || k.version != version {
		return false
	}
	for i := range ss {
		name, ok := k.byAgent[ss[i].AgentID]
		if !ok {
			return false
		}
		ss[i].AgentName = name
	}
	return true
}

// keep adds byAgent, names of account's agents at version, to the kept names, in place of
// those of another version.
func (n *names) keep(account string, version int64, byAgent map[string]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	k, ok := n.accounts[account]
	if ok && k.version != version {
		n.size -= len(k.byAgent)
		ok = false
	}
	if n.size+len(byAgent) > maxKeptNames {
		clear(n.accounts)
		n.size, ok = 0, false
	}
	if n.accounts == nil {
		n.accounts = map[string]keptNames{}
	}
	if !ok {
		k = keptNames{version: version, byAgent: make(map[string]string, len(byAgent))}
		n.accounts[account] = k
	}
	for id, name := range byAgent {
		if _, had := k.byAgent[id]; !had {
			n.size++
		}
		k.byAgent[id] = name
	}
}

// namesSQL reads the current names of agents of an account ($2, an array of IDs), with the
// account's version of names from the same snapshot.
const namesSQL = `SELECT id, name, (SELECT version FROM agent_names_versions WHERE account_id = $1)
FROM agents WHERE account_id = $1 AND id = ANY($2)`

// nameAgents sets the AgentName of each of ss, the sessions of an account-wide page of account
// read at version, from the store's kept names, or else from the database (one statement for
// the page's distinct agents), whose names it then keeps. It runs on the read pool, as the page.
func (s *Store) nameAgents(ctx context.Context, account string, version int64, ss []sessions.Session) error {
	if len(ss) == 0 || s.names.fill(account, version, ss) {
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, x := range ss {
		if !seen[x.AgentID] {
			seen[x.AgentID] = true
			ids = append(ids, x.AgentID)
		}
	}
	rows, err := s.read.Query(ctx, namesSQL, s.listMode, account, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	byAgent := make(map[string]string, len(ids))
	var current *int64 // NULL: version 0
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name, &current); err != nil {
			return err
		}
		byAgent[id] = name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range ss {
		ss[i].AgentName = byAgent[ss[i].AgentID]
	}
	if len(byAgent) > 0 { // else no row told the version
		s.names.keep(account, valueOrZero(current), byAgent)
	}
	return nil
}

// valueOrZero returns *v, or 0 for nil (SQL NULL).
func valueOrZero(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}
