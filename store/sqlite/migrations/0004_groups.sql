-- Version 4: the group indexes of rare filters.
--
-- A status or min_redactions filter that matches few sessions would make a walk of the list
-- indexes read every session of the window. These indexes key the sessions by status and
-- redaction_count before the list order, so that ListSessions can seek each (status,
-- redaction_count) group that the filter selects and read only the first sessions of each, in
-- list order, from the page's position: a page then costs the groups' seeks plus what it
-- returns, whatever the window holds. Each index costs every write one more B-tree insert
-- (BENCHMARKS.md measures it).
CREATE INDEX sessions_agent_groups
	ON sessions (account_id, agent_id, status, redaction_count, started_at DESC, id DESC);
CREATE INDEX sessions_account_groups
	ON sessions (account_id, status, redaction_count, started_at DESC, id DESC);
