-- Version 1: agents and sessions.
--
-- sessions is a WITHOUT ROWID table, clustered on its primary key: one B-tree for the rows and
-- their ID instead of a rowid table plus a unique index on id, which saves a B-tree insert per
-- session written. Rows are small (about 150 bytes), as such tables should be. The list indexes
-- end with id anyway, which is also how their entries point at the rows.
--
-- Tables are STRICT, so that a value of the wrong type is an error rather than silently stored.
-- Times are INTEGER Unix milliseconds in UTC, the precision of every store of the module. IDs
-- and account IDs are TEXT in the default BINARY collation: they compare bytewise (memcmp), as
-- Go compares strings, which is the tie-break of the list order.

CREATE TABLE agents (
	id         TEXT NOT NULL PRIMARY KEY,
	account_id TEXT NOT NULL,
	name       TEXT NOT NULL DEFAULT '',
	-- The parent key of the sessions' foreign key, which carries the account.
	UNIQUE (account_id, id)
) STRICT;

CREATE TABLE sessions (
	id                 TEXT NOT NULL PRIMARY KEY,
	account_id         TEXT NOT NULL,
	agent_id           TEXT NOT NULL,
	started_at         INTEGER NOT NULL, -- Unix milliseconds, UTC
	ended_at           INTEGER NOT NULL, -- Unix milliseconds, UTC
	status             TEXT NOT NULL CHECK (status IN ('ok', 'error', 'partial')),
	-- A JSON object of kind -> count, without zero counts.
	redactions_by_kind TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(redactions_by_kind)),
	-- The sum of redactions_by_kind, kept beside it so that min_redactions filters from an index.
	redaction_count    INTEGER NOT NULL DEFAULT 0 CHECK (redaction_count >= 0),
	upstream_model     TEXT NOT NULL DEFAULT '',
	CHECK (ended_at >= started_at),
	-- The key carries the account: a session cannot point at an agent of another account.
	FOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id)
) STRICT, WITHOUT ROWID;

-- The list of one agent, in list order, then the columns of the status and min_redactions
-- filters, so that they are evaluated from the index before the row is read. Its prefix
-- (account_id, agent_id) also serves the foreign key.
CREATE INDEX sessions_agent_list
	ON sessions (account_id, agent_id, started_at DESC, id DESC, status, redaction_count);

-- The account-wide list (every agent), likewise. It also serves retention: PurgeSessions finds
-- the oldest sessions of each account at the end of its range.
CREATE INDEX sessions_account_list
	ON sessions (account_id, started_at DESC, id DESC, status, redaction_count);
