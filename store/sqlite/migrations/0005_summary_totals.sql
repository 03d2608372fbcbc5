-- Version 5: coarser summary rollups, one row per (account, agent or '', hour, status) with the
-- kinds packed in it, in place of the rows of migration 0003 per redaction count and per kind.
--
-- The rollups of 0003 were finer than the data: at 100,000 sessions, a 30-day summary read more
-- rollup rows than there were sessions in its window (13,983 for the busiest agent's 6,046
-- sessions, 48,883 for the account's 33,294), and was slower than the plain aggregate over the
-- raw rows; and every session wrote 1 + (its kinds) rollup rows per key. Here a key of 30 days
-- has at most 720 x 3 rows whatever the data size, and a session writes one row per key. A
-- summary with MinRedactions reads the raw rows of its window instead, through the list indexes:
-- its cost grows with the window's sessions, as a list's does.
--
-- summary_totals holds, for each UTC hour (the Unix millisecond at which it starts), the totals
-- of the sessions that started in it, by account, agent and status. Each session counts in two
-- rows: its agent's (agent_id) and its account's (agent_id ''). kinds is a JSON object of kind
-- -> the sum of that kind's redactions, without zero sums. A row exists exactly when a session is
-- in its group: the triggers delete the rows that fall to zero.
--
-- The triggers keep the table in the statement that writes sessions, so in its transaction: an
-- insert adds, a delete (PurgeSessions) subtracts, an update (an upsert that replaces a session)
-- subtracts the old row and adds the new one. The kinds of a row are merged with json_each,
-- and only when the session has kinds.

DROP TRIGGER IF EXISTS sessions_summary_insert;
DROP TRIGGER IF EXISTS sessions_summary_update;
DROP TRIGGER IF EXISTS sessions_summary_delete;
DROP TABLE IF EXISTS summary_hours;
DROP TABLE IF EXISTS summary_kinds;

CREATE TABLE summary_totals (
	account_id      TEXT    NOT NULL,
	agent_id        TEXT    NOT NULL, -- '' for every agent of the account
	hour            INTEGER NOT NULL, -- Unix milliseconds, UTC, a multiple of 3,600,000
	status          TEXT    NOT NULL,
	sessions        INTEGER NOT NULL,
	redaction_total INTEGER NOT NULL, -- the sum of redaction_count
	duration_ms     INTEGER NOT NULL, -- the sum of ended_at - started_at
	kinds           TEXT    NOT NULL, -- a JSON object of kind -> sum, without zero sums
	PRIMARY KEY (account_id, agent_id, hour, status)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER sessions_summary_insert AFTER INSERT ON sessions BEGIN
	INSERT INTO summary_totals
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			1, NEW.redaction_count, NEW.ended_at - NEW.started_at, NEW.redactions_by_kind
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a WHERE true
		ON CONFLICT DO UPDATE SET sessions = sessions + 1,
			redaction_total = redaction_total + excluded.redaction_total,
			duration_ms = duration_ms + excluded.duration_ms,
			kinds = iif(excluded.kinds = '{}', kinds, (SELECT coalesce(json_group_object(k, n), '{}') FROM
				(SELECT key AS k, sum(value) AS n FROM (SELECT key, value FROM json_each(kinds)
					UNION ALL SELECT key, value FROM json_each(excluded.kinds)) GROUP BY key)));
END;

CREATE TRIGGER sessions_summary_delete AFTER DELETE ON sessions BEGIN
	UPDATE summary_totals SET sessions = sessions - 1,
			redaction_total = redaction_total - OLD.redaction_count,
			duration_ms = duration_ms - (OLD.ended_at - OLD.started_at),
			kinds = iif(OLD.redactions_by_kind = '{}', kinds, (SELECT coalesce(json_group_object(k, n), '{}') FROM
				(SELECT key AS k, sum(value) AS n FROM (SELECT key, value FROM json_each(kinds)
					UNION ALL SELECT key, -value FROM json_each(OLD.redactions_by_kind)) GROUP BY key HAVING n <> 0)))
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status;
	DELETE FROM summary_totals
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status AND sessions = 0;
END;

-- An upsert that replaces a session: the old row out, the new row in.
CREATE TRIGGER sessions_summary_update AFTER UPDATE ON sessions BEGIN
	UPDATE summary_totals SET sessions = sessions - 1,
			redaction_total = redaction_total - OLD.redaction_count,
			duration_ms = duration_ms - (OLD.ended_at - OLD.started_at),
			kinds = iif(OLD.redactions_by_kind = '{}', kinds, (SELECT coalesce(json_group_object(k, n), '{}') FROM
				(SELECT key AS k, sum(value) AS n FROM (SELECT key, value FROM json_each(kinds)
					UNION ALL SELECT key, -value FROM json_each(OLD.redactions_by_kind)) GROUP BY key HAVING n <> 0)))
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status;
	DELETE FROM summary_totals
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status AND sessions = 0;
	INSERT INTO summary_totals
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			1, NEW.redaction_count, NEW.ended_at - NEW.started_at, NEW.redactions_by_kind
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a WHERE true
		ON CONFLICT DO UPDATE SET sessions = sessions + 1,
			redaction_total = redaction_total + excluded.redaction_total,
			duration_ms = duration_ms + excluded.duration_ms,
			kinds = iif(excluded.kinds = '{}', kinds, (SELECT coalesce(json_group_object(k, n), '{}') FROM
				(SELECT key AS k, sum(value) AS n FROM (SELECT key, value FROM json_each(kinds)
					UNION ALL SELECT key, value FROM json_each(excluded.kinds)) GROUP BY key)));
END;

-- The rollups of the sessions already stored: each agent's, then each account's.
INSERT INTO summary_totals
	SELECT t.account_id, t.agent_id, t.h, t.status, t.n, t.r, t.d, coalesce(k.kinds, '{}')
	FROM (SELECT account_id, agent_id, started_at - started_at % 3600000 AS h, status,
			count(*) AS n, sum(redaction_count) AS r, sum(ended_at - started_at) AS d
		FROM sessions GROUP BY 1, 2, 3, 4) AS t
	LEFT JOIN (SELECT account_id, agent_id, h, status, json_group_object(kind, n) AS kinds
		FROM (SELECT s.account_id, s.agent_id, s.started_at - s.started_at % 3600000 AS h, s.status,
				j.key AS kind, sum(j.value) AS n
			FROM sessions AS s, json_each(s.redactions_by_kind) AS j GROUP BY 1, 2, 3, 4, 5)
		GROUP BY 1, 2, 3, 4) AS k USING (account_id, agent_id, h, status);
INSERT INTO summary_totals
	SELECT t.account_id, '', t.h, t.status, t.n, t.r, t.d, coalesce(k.kinds, '{}')
	FROM (SELECT account_id, started_at - started_at % 3600000 AS h, status,
			count(*) AS n, sum(redaction_count) AS r, sum(ended_at - started_at) AS d
		FROM sessions GROUP BY 1, 2, 3) AS t
	LEFT JOIN (SELECT account_id, h, status, json_group_object(kind, n) AS kinds
		FROM (SELECT s.account_id, s.started_at - s.started_at % 3600000 AS h, s.status, j.key AS kind, sum(j.value) AS n
			FROM sessions AS s, json_each(s.redactions_by_kind) AS j GROUP BY 1, 2, 3, 4)
		GROUP BY 1, 2, 3) AS k USING (account_id, h, status);
