-- Version 3: the summary rollups, which SummarizeSessions reads instead of the raw rows.
--
-- summary_hours holds, for each UTC hour (the hour column is the start of the hour), the totals
-- of the sessions that started in it, keyed by account, agent, status and redaction count. Each
-- session counts in two rows: its agent's (agent_id) and its account's (agent_id ''), so that an
-- account-wide summary reads one row per key, not one per agent. The redaction count is capped:
-- redactions is least(redaction_count, 16), so 16 stands for "16 or more". A MinRedactions m of
-- at most 16 is exactly "redactions >= m"; above 16 the rollups cannot answer, and
-- SummarizeSessions reads the raw rows. summary_kinds holds the per-kind sums of the same groups,
-- one row per kind.
--
-- A row exists exactly when at least one session is in its group: the triggers delete rows that
-- fall to zero. So the rollups are also a skip index for the lists: an hour of an agent (or of an
-- account, with agent_id '') without a row for a status and redactions >= m has no session that
-- the list's filter selects.
--
-- Statement-level triggers with transition tables keep both tables in the writing statement, so
-- in its transaction, with one aggregated upsert per statement rather than one per row: an
-- INSERT (or COPY) adds, a DELETE (PurgeSessions) subtracts, an UPDATE (the DO UPDATE of an upsert
-- that replaces a session) subtracts the old rows and adds the new ones. Rows are upserted in key
-- order, so that concurrent writers lock shared rollup rows in the same order.
--
-- An operator who partitions sessions (docs/postgres.md) creates these triggers on the new table.

CREATE TABLE summary_hours (
	account_id      text COLLATE "C" NOT NULL,
	agent_id        text COLLATE "C" NOT NULL, -- '' for every agent of the account
	hour            timestamptz NOT NULL,     -- the start of a UTC hour
	status          text NOT NULL,
	redactions      smallint NOT NULL,        -- least(redaction_count, 16)
	sessions        bigint NOT NULL,
	redaction_total bigint NOT NULL,          -- the sum of redaction_count
	duration_ms     bigint NOT NULL,          -- the sum of ended_at - started_at, in milliseconds
	CONSTRAINT summary_hours_pkey PRIMARY KEY (account_id, agent_id, hour, status, redactions)
);

CREATE TABLE summary_kinds (
	account_id text COLLATE "C" NOT NULL,
	agent_id   text COLLATE "C" NOT NULL,
	hour       timestamptz NOT NULL,
	status     text NOT NULL,
	redactions smallint NOT NULL,
	kind       text COLLATE "C" NOT NULL,
	total      bigint NOT NULL,
	CONSTRAINT summary_kinds_pkey PRIMARY KEY (account_id, agent_id, hour, status, redactions, kind)
);

CREATE FUNCTION sessions_summary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO summary_hours AS r
		(account_id, agent_id, hour, status, redactions, sessions, redaction_total, duration_ms)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		sum(d.sign), sum(d.sign * d.redaction_count),
		sum(d.sign * (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (account_id, agent_id, hour, status, redactions) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms;
	INSERT INTO summary_kinds AS r (account_id, agent_id, hour, status, redactions, kind, total)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		k.key, sum(d.sign * k.value::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
		CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS k
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (account_id, agent_id, hour, status, redactions, kind) DO UPDATE SET
		total = r.total + excluded.total;
RETURN NULL;
END
$$;

CREATE FUNCTION sessions_summary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO summary_hours AS r
		(account_id, agent_id, hour, status, redactions, sessions, redaction_total, duration_ms)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		sum(d.sign), sum(d.sign * d.redaction_count),
		sum(d.sign * (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (account_id, agent_id, hour, status, redactions) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms;
	INSERT INTO summary_kinds AS r (account_id, agent_id, hour, status, redactions, kind, total)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		k.key, sum(d.sign * k.value::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
		CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS k
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (account_id, agent_id, hour, status, redactions, kind) DO UPDATE SET
		total = r.total + excluded.total;
	DELETE FROM summary_hours AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status, least(redaction_count, 16) AS redactions FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.redactions = o.redactions AND r.sessions = 0;
	DELETE FROM summary_kinds AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status, least(redaction_count, 16) AS redactions FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.redactions = o.redactions AND r.total = 0;
RETURN NULL;
END
$$;

CREATE FUNCTION sessions_summary_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO summary_hours AS r
		(account_id, agent_id, hour, status, redactions, sessions, redaction_total, duration_ms)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		sum(d.sign), sum(d.sign * d.redaction_count),
		sum(d.sign * (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows UNION ALL SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
	GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
	ON CONFLICT (account_id, agent_id, hour, status, redactions) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms;
	INSERT INTO summary_kinds AS r (account_id, agent_id, hour, status, redactions, kind, total)
	SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
		k.key, sum(d.sign * k.value::bigint)
	FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows UNION ALL SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
		CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS k
	GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
	ON CONFLICT (account_id, agent_id, hour, status, redactions, kind) DO UPDATE SET
		total = r.total + excluded.total;
	DELETE FROM summary_hours AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status, least(redaction_count, 16) AS redactions FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.redactions = o.redactions AND r.sessions = 0;
	DELETE FROM summary_kinds AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status, least(redaction_count, 16) AS redactions FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.redactions = o.redactions AND r.total = 0;
RETURN NULL;
END
$$;

CREATE TRIGGER sessions_summary_insert AFTER INSERT ON sessions
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_summary_insert();
CREATE TRIGGER sessions_summary_delete AFTER DELETE ON sessions
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_summary_delete();
CREATE TRIGGER sessions_summary_update AFTER UPDATE ON sessions
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_summary_update();

-- The rollups of the sessions already stored.
INSERT INTO summary_hours AS r
	(account_id, agent_id, hour, status, redactions, sessions, redaction_total, duration_ms)
SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
	sum(d.sign), sum(d.sign * d.redaction_count),
	sum(d.sign * (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint)
FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM sessions) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
ON CONFLICT (account_id, agent_id, hour, status, redactions) DO UPDATE SET
	sessions = r.sessions + excluded.sessions,
	redaction_total = r.redaction_total + excluded.redaction_total,
	duration_ms = r.duration_ms + excluded.duration_ms;
INSERT INTO summary_kinds AS r (account_id, agent_id, hour, status, redactions, kind, total)
SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC'), d.status, least(d.redaction_count, 16),
	k.key, sum(d.sign * k.value::bigint)
FROM (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM sessions) AS d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)
	CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS k
GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (account_id, agent_id, hour, status, redactions, kind) DO UPDATE SET
	total = r.total + excluded.total;
