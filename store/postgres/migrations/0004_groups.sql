-- Version 4: the group indexes of rare filters.
--
-- A status or min_redactions filter that matches few sessions would make a scan of the list
-- indexes read every session of the window. These indexes key the sessions by status and
-- redaction_count before the list order, so that the list query can seek each (status,
-- redaction_count) group that the filter selects and read only the first sessions of each, in
-- list order, from the page's position: a page then costs the groups' seeks plus what it
-- returns, whatever the window holds. Each index costs every write one more B-tree insert
-- (BENCHMARKS.md measures it).
--
-- Building them on a large table locks writes out while it runs; a deployment with millions of
-- rows may create them beforehand with CREATE INDEX CONCURRENTLY under these names, which this
-- migration then finds in place.
CREATE INDEX IF NOT EXISTS sessions_agent_groups
	ON sessions (account_id, agent_id, status, redaction_count, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS sessions_account_groups
	ON sessions (account_id, status, redaction_count, started_at DESC, id DESC);
