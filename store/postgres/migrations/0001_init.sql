-- Version 1: agents and sessions.
--
-- Every name is unqualified: the tables go in the connection's current schema (the first existing
-- schema of search_path), so that one database can hold several isolated stores.
--
-- IDs and account IDs use COLLATE "C": they compare bytewise, as Go compares strings, which is
-- the order of the list (StartedAt descending, then ID descending) in every store.

CREATE TABLE agents (
	id         text COLLATE "C" NOT NULL,
	account_id text COLLATE "C" NOT NULL,
	name       text NOT NULL DEFAULT '',
	CONSTRAINT agents_pkey PRIMARY KEY (id),
	-- The target of the sessions' foreign key, which carries the account.
	CONSTRAINT agents_account_id_key UNIQUE (account_id, id)
);

CREATE TABLE sessions (
	id                 text COLLATE "C" NOT NULL,
	account_id         text COLLATE "C" NOT NULL,
	agent_id           text COLLATE "C" NOT NULL,
	started_at         timestamptz(3) NOT NULL,
	ended_at           timestamptz(3) NOT NULL,
	status             text NOT NULL,
	redactions_by_kind jsonb NOT NULL DEFAULT '{}',
	-- The sum of redactions_by_kind, kept beside it so that min_redactions filters from an index.
	redaction_count    bigint NOT NULL DEFAULT 0,
	upstream_model     text NOT NULL DEFAULT '',
	CONSTRAINT sessions_pkey PRIMARY KEY (id),
	CONSTRAINT sessions_status_check CHECK (status IN ('ok', 'error', 'partial')),
	CONSTRAINT sessions_ended_at_check CHECK (ended_at >= started_at),
	CONSTRAINT sessions_redaction_count_check CHECK (redaction_count >= 0),
	CONSTRAINT sessions_redactions_by_kind_check CHECK (jsonb_typeof(redactions_by_kind) = 'object'),
	-- The key carries the account: a session cannot point at an agent of another account.
	CONSTRAINT sessions_agent_fkey FOREIGN KEY (account_id, agent_id) REFERENCES agents (account_id, id)
);

-- The list of one agent, in list order. Its prefix (account_id, agent_id) also serves the foreign
-- key. The INCLUDE columns let the status and min_redactions filters run in an index-only scan.
CREATE INDEX sessions_agent_list ON sessions (account_id, agent_id, started_at DESC, id DESC)
	INCLUDE (status, redaction_count);

-- The account-wide list (every agent), in list order, with the same INCLUDE columns. It also
-- serves retention: PurgeSessions seeks the oldest sessions of each account here, so that no
-- index on started_at alone slows down every write (and misleads the planner of the lists).
CREATE INDEX sessions_account_list ON sessions (account_id, started_at DESC, id DESC)
	INCLUDE (status, redaction_count);

-- Sessions are insert-mostly. By default autovacuum would wait for 20% of the table to be new
-- before it vacuums (and so marks pages all-visible, which the index-only scans of the lists
-- need in order to skip the table) or analyzes (which tells the planner about recent times).
-- These thresholds keep both fresh on a large table.
ALTER TABLE sessions SET (
	autovacuum_vacuum_insert_threshold = 10000,
	autovacuum_vacuum_insert_scale_factor = 0.02,
	autovacuum_analyze_threshold = 10000,
	autovacuum_analyze_scale_factor = 0.02
);
