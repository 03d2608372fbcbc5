-- Version 5: coarser summary rollups, one row per (account, agent or '', hour, status) with the
-- kinds packed in it, in place of the rows of migration 0003 per redaction count and per kind.
--
-- The rollups of 0003 were finer than the data: at 100,000 sessions, a 30-day summary read more
-- rollup rows than there were sessions in its window (13,983 for the busiest agent's 6,046
-- sessions, 48,883 for the account's 33,294), and was slower than the plain aggregate over the
-- raw rows; and every session wrote 1 + (its kinds) rollup rows per key. Here a key of 30 days
-- has at most 720 x 3 rows whatever the data size, and a statement writes one row per key it
-- touches. A summary with MinRedactions reads the raw rows of its window
-- instead, through the list indexes: its cost grows with the window's sessions, as a list's does.
--
-- summary_totals holds, for each UTC hour (the hour column is its start), the totals of the
-- sessions that started in it, by account, agent and status. Each session counts in two rows:
-- its agent's (agent_id) and its account's (agent_id ''). kinds is a JSON object of kind -> the
-- sum of that kind's redactions, without zero sums. A row exists exactly when a session is in
-- its group: the triggers delete the rows that fall to zero.
--
-- Statement-level triggers with transition tables keep the table in the writing statement, so in
-- its transaction, with one aggregated upsert per statement: an INSERT (or COPY) adds, a DELETE
-- (PurgeSessions) subtracts, an UPDATE (the DO UPDATE of an upsert that replaces a session)
-- subtracts the old rows and adds the new ones. Rows are upserted in key order, so that
-- concurrent writers lock shared rows in the same order.
--
-- An operator who partitions sessions (docs/postgres.md) creates these triggers on the new table.

DROP TRIGGER IF EXISTS sessions_summary_insert ON sessions;
DROP TRIGGER IF EXISTS sessions_summary_delete ON sessions;
DROP TRIGGER IF EXISTS sessions_summary_update ON sessions;
DROP FUNCTION IF EXISTS sessions_summary_insert();
DROP FUNCTION IF EXISTS sessions_summary_delete();
DROP FUNCTION IF EXISTS sessions_summary_update();
DROP TABLE IF EXISTS summary_hours;
DROP TABLE IF EXISTS summary_kinds;

CREATE TABLE summary_totals (
	account_id      text COLLATE "C" NOT NULL,
	agent_id        text COLLATE "C" NOT NULL, -- '' for every agent of the account
	hour            timestamptz NOT NULL,     -- the start of a UTC hour
	status          text NOT NULL,
	sessions        bigint NOT NULL,
	redaction_total bigint NOT NULL,          -- the sum of redaction_count
	duration_ms     bigint NOT NULL,          -- the sum of ended_at - started_at, in milliseconds
	kinds           jsonb NOT NULL,           -- kind -> the sum of its redactions, without zero sums
	CONSTRAINT summary_totals_pkey PRIMARY KEY (account_id, agent_id, hour, status)
);

CREATE FUNCTION sessions_summary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH d AS (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows),
	g AS (SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC') AS hour, d.status, d.sign,
			d.redaction_count, (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint AS duration_ms, d.redactions_by_kind
		FROM d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM (SELECT g.account_id, g.agent_id, g.hour, g.status, e.key AS kind, sum(g.sign * e.value::bigint) AS total
			FROM g CROSS JOIN LATERAL jsonb_each_text(g.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5) AS x
		GROUP BY 1, 2, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM g GROUP BY 1, 2, 3, 4) AS t
		LEFT JOIN k USING (account_id, agent_id, hour, status)
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (account_id, agent_id, hour, status) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms,
		kinds = CASE WHEN excluded.kinds = '{}' THEN r.kinds ELSE (SELECT coalesce(jsonb_object_agg(key, total), '{}')
			FROM (SELECT key, sum(value::bigint) AS total FROM (SELECT * FROM jsonb_each_text(r.kinds)
				UNION ALL SELECT * FROM jsonb_each_text(excluded.kinds)) AS y GROUP BY key) AS z WHERE total <> 0) END;
RETURN NULL;
END
$$;

CREATE FUNCTION sessions_summary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH d AS (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows),
	g AS (SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC') AS hour, d.status, d.sign,
			d.redaction_count, (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint AS duration_ms, d.redactions_by_kind
		FROM d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM (SELECT g.account_id, g.agent_id, g.hour, g.status, e.key AS kind, sum(g.sign * e.value::bigint) AS total
			FROM g CROSS JOIN LATERAL jsonb_each_text(g.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5) AS x
		GROUP BY 1, 2, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM g GROUP BY 1, 2, 3, 4) AS t
		LEFT JOIN k USING (account_id, agent_id, hour, status)
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (account_id, agent_id, hour, status) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms,
		kinds = CASE WHEN excluded.kinds = '{}' THEN r.kinds ELSE (SELECT coalesce(jsonb_object_agg(key, total), '{}')
			FROM (SELECT key, sum(value::bigint) AS total FROM (SELECT * FROM jsonb_each_text(r.kinds)
				UNION ALL SELECT * FROM jsonb_each_text(excluded.kinds)) AS y GROUP BY key) AS z WHERE total <> 0) END;
	DELETE FROM summary_totals AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.sessions = 0;
RETURN NULL;
END
$$;

CREATE FUNCTION sessions_summary_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	WITH d AS (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM new_rows UNION ALL SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, -1 AS sign FROM old_rows),
	g AS (SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC') AS hour, d.status, d.sign,
			d.redaction_count, (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint AS duration_ms, d.redactions_by_kind
		FROM d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM (SELECT g.account_id, g.agent_id, g.hour, g.status, e.key AS kind, sum(g.sign * e.value::bigint) AS total
			FROM g CROSS JOIN LATERAL jsonb_each_text(g.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5) AS x
		GROUP BY 1, 2, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM g GROUP BY 1, 2, 3, 4) AS t
		LEFT JOIN k USING (account_id, agent_id, hour, status)
	ORDER BY 1, 2, 3, 4
	ON CONFLICT (account_id, agent_id, hour, status) DO UPDATE SET
		sessions = r.sessions + excluded.sessions,
		redaction_total = r.redaction_total + excluded.redaction_total,
		duration_ms = r.duration_ms + excluded.duration_ms,
		kinds = CASE WHEN excluded.kinds = '{}' THEN r.kinds ELSE (SELECT coalesce(jsonb_object_agg(key, total), '{}')
			FROM (SELECT key, sum(value::bigint) AS total FROM (SELECT * FROM jsonb_each_text(r.kinds)
				UNION ALL SELECT * FROM jsonb_each_text(excluded.kinds)) AS y GROUP BY key) AS z WHERE total <> 0) END;
	DELETE FROM summary_totals AS r USING (SELECT DISTINCT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour,
			status FROM old_rows) AS o
		WHERE r.account_id = o.account_id AND r.agent_id IN (o.agent_id, '') AND r.hour = o.hour
			AND r.status = o.status AND r.sessions = 0;
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
WITH d AS (SELECT account_id, agent_id, started_at, ended_at, status, redaction_count, redactions_by_kind, 1 AS sign FROM sessions),
g AS (SELECT d.account_id, a.agent_id, date_trunc('hour', d.started_at, 'UTC') AS hour, d.status, d.sign,
		d.redaction_count, (extract(epoch FROM d.ended_at - d.started_at) * 1000)::bigint AS duration_ms, d.redactions_by_kind
	FROM d CROSS JOIN LATERAL (VALUES (d.agent_id), ('')) AS a (agent_id)),
k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
	FROM (SELECT g.account_id, g.agent_id, g.hour, g.status, e.key AS kind, sum(g.sign * e.value::bigint) AS total
		FROM g CROSS JOIN LATERAL jsonb_each_text(g.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5) AS x
	GROUP BY 1, 2, 3, 4)
INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
FROM (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
		sum(sign * duration_ms) AS duration_ms
	FROM g GROUP BY 1, 2, 3, 4) AS t
	LEFT JOIN k USING (account_id, agent_id, hour, status)
ORDER BY 1, 2, 3, 4
ON CONFLICT (account_id, agent_id, hour, status) DO UPDATE SET
	sessions = r.sessions + excluded.sessions,
	redaction_total = r.redaction_total + excluded.redaction_total,
	duration_ms = r.duration_ms + excluded.duration_ms,
	kinds = CASE WHEN excluded.kinds = '{}' THEN r.kinds ELSE (SELECT coalesce(jsonb_object_agg(key, total), '{}')
		FROM (SELECT key, sum(value::bigint) AS total FROM (SELECT * FROM jsonb_each_text(r.kinds)
			UNION ALL SELECT * FROM jsonb_each_text(excluded.kinds)) AS y GROUP BY key) AS z WHERE total <> 0) END;
