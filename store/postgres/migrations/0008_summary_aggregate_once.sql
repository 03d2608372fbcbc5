-- Version 8: the summary triggers of 0005 aggregate each statement's sessions once.
--
-- The statements of 0005 (kept in 0006) aggregated every session twice, once for its agent's
-- rollup row and once for its account's ('' agent_id): each session's kinds were expanded twice
-- (jsonb_each_text), and the planner, which takes 100 rows for each expansion, sorted the kinds
-- of a batch of 10,000 sessions on disk (an external merge of 40,000 rows: 65 to 70 ms of the
-- 125 ms that the statement took, EXPLAIN ANALYZE on 2026-12-04). These statements group the
-- sessions by agent once, and derive the account's rows from the agents' sums: half the kind
-- rows, hashed in memory (the same batch: 49 to 98 ms). The rows written, their order (key
-- order, so that concurrent writers lock shared rows in the same order) and the merge of a
-- conflicting row's kinds are those of 0005. d is NOT MATERIALIZED so that both of its readers
-- scan the transition tables themselves, rather than a copy of them.
--
-- JIT stays off in the three functions (migration 0006): SET in CREATE OR REPLACE replaces the
-- settings of the function, so it is given again here.

CREATE OR REPLACE FUNCTION sessions_summary_insert() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
	WITH d AS NOT MATERIALIZED (SELECT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour, status, 1 AS sign, redaction_count,
			(extract(epoch FROM ended_at - started_at) * 1000)::bigint AS duration_ms, redactions_by_kind FROM new_rows),
	a AS (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM d GROUP BY 1, 2, 3, 4),
	ak AS (SELECT d.account_id, d.agent_id, d.hour, d.status, e.key AS kind, sum(d.sign * e.value::bigint) AS total
		FROM d CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5),
	t AS (SELECT * FROM a
		UNION ALL SELECT account_id, '', hour, status, sum(sessions), sum(redaction_total), sum(duration_ms) FROM a GROUP BY 1, 3, 4),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM ak GROUP BY 1, 2, 3, 4
		UNION ALL SELECT account_id, '', hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0)
		FROM (SELECT account_id, hour, status, kind, sum(total) AS total FROM ak GROUP BY 1, 2, 3, 4) AS x GROUP BY 1, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM t LEFT JOIN k USING (account_id, agent_id, hour, status)
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

CREATE OR REPLACE FUNCTION sessions_summary_delete() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
	WITH d AS NOT MATERIALIZED (SELECT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour, status, -1 AS sign, redaction_count,
			(extract(epoch FROM ended_at - started_at) * 1000)::bigint AS duration_ms, redactions_by_kind FROM old_rows),
	a AS (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM d GROUP BY 1, 2, 3, 4),
	ak AS (SELECT d.account_id, d.agent_id, d.hour, d.status, e.key AS kind, sum(d.sign * e.value::bigint) AS total
		FROM d CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5),
	t AS (SELECT * FROM a
		UNION ALL SELECT account_id, '', hour, status, sum(sessions), sum(redaction_total), sum(duration_ms) FROM a GROUP BY 1, 3, 4),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM ak GROUP BY 1, 2, 3, 4
		UNION ALL SELECT account_id, '', hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0)
		FROM (SELECT account_id, hour, status, kind, sum(total) AS total FROM ak GROUP BY 1, 2, 3, 4) AS x GROUP BY 1, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM t LEFT JOIN k USING (account_id, agent_id, hour, status)
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

CREATE OR REPLACE FUNCTION sessions_summary_update() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
	WITH d AS NOT MATERIALIZED (SELECT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour, status, 1 AS sign, redaction_count,
			(extract(epoch FROM ended_at - started_at) * 1000)::bigint AS duration_ms, redactions_by_kind FROM new_rows
		UNION ALL SELECT account_id, agent_id, date_trunc('hour', started_at, 'UTC') AS hour, status, -1 AS sign, redaction_count,
			(extract(epoch FROM ended_at - started_at) * 1000)::bigint AS duration_ms, redactions_by_kind FROM old_rows),
	a AS (SELECT account_id, agent_id, hour, status, sum(sign) AS sessions, sum(sign * redaction_count) AS redaction_total,
			sum(sign * duration_ms) AS duration_ms
		FROM d GROUP BY 1, 2, 3, 4),
	ak AS (SELECT d.account_id, d.agent_id, d.hour, d.status, e.key AS kind, sum(d.sign * e.value::bigint) AS total
		FROM d CROSS JOIN LATERAL jsonb_each_text(d.redactions_by_kind) AS e GROUP BY 1, 2, 3, 4, 5),
	t AS (SELECT * FROM a
		UNION ALL SELECT account_id, '', hour, status, sum(sessions), sum(redaction_total), sum(duration_ms) FROM a GROUP BY 1, 3, 4),
	k AS (SELECT account_id, agent_id, hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0) AS kinds
		FROM ak GROUP BY 1, 2, 3, 4
		UNION ALL SELECT account_id, '', hour, status, jsonb_object_agg(kind, total) FILTER (WHERE total <> 0)
		FROM (SELECT account_id, hour, status, kind, sum(total) AS total FROM ak GROUP BY 1, 2, 3, 4) AS x GROUP BY 1, 3, 4)
	INSERT INTO summary_totals AS r (account_id, agent_id, hour, status, sessions, redaction_total, duration_ms, kinds)
	SELECT t.account_id, t.agent_id, t.hour, t.status, t.sessions, t.redaction_total, t.duration_ms, coalesce(k.kinds, '{}')
	FROM t LEFT JOIN k USING (account_id, agent_id, hour, status)
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
