-- Version 3: the summary rollups, which SummarizeSessions reads instead of the raw rows.
--
-- summary_hours holds, for each hour (the Unix millisecond at which the hour starts, UTC), the
-- totals of the sessions that started in it, keyed by account, agent, status and redaction
-- count. Each session counts in two rows: its agent's (agent_id) and its account's (agent_id
-- ''), so that an account-wide summary reads one row per key and not one per agent. The
-- redaction count is capped: redactions is min(redaction_count, 16), so that 16 stands for
-- "16 or more". A filter MinRedactions m of at most 16 is then exactly "redactions >= m";
-- above 16 it cannot be answered from here, and SummarizeSessions reads raw rows.
--
-- summary_kinds holds the per-kind sums of the same groups, one row per kind.
--
-- A row exists exactly when at least one session is in its group: the triggers delete the rows
-- that fall to zero. So the rollups are also a skip index for the lists: an hour of an agent (or
-- of an account, with agent_id '') without a row for a status and redactions >= m has no session
-- that the list's filter selects.
--
-- The triggers below keep both tables in the statement that writes sessions, so in its
-- transaction: an insert adds, a delete (PurgeSessions) subtracts, an update (an upsert that
-- replaces a session) subtracts the old row and adds the new one.

CREATE TABLE summary_hours (
	account_id      TEXT    NOT NULL,
	agent_id        TEXT    NOT NULL, -- '' for every agent of the account
	hour            INTEGER NOT NULL, -- Unix milliseconds, UTC, a multiple of 3,600,000
	status          TEXT    NOT NULL,
	redactions      INTEGER NOT NULL, -- min(redaction_count, 16)
	sessions        INTEGER NOT NULL,
	redaction_total INTEGER NOT NULL, -- the sum of redaction_count
	duration_ms     INTEGER NOT NULL, -- the sum of ended_at - started_at
	PRIMARY KEY (account_id, agent_id, hour, status, redactions)
) STRICT, WITHOUT ROWID;

CREATE TABLE summary_kinds (
	account_id TEXT    NOT NULL,
	agent_id   TEXT    NOT NULL,
	hour       INTEGER NOT NULL,
	status     TEXT    NOT NULL,
	redactions INTEGER NOT NULL,
	kind       TEXT    NOT NULL,
	total      INTEGER NOT NULL,
	PRIMARY KEY (account_id, agent_id, hour, status, redactions, kind)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER sessions_summary_insert AFTER INSERT ON sessions BEGIN
	INSERT INTO summary_hours
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			min(NEW.redaction_count, 16), 1, NEW.redaction_count, NEW.ended_at - NEW.started_at
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a WHERE true
		ON CONFLICT DO UPDATE SET sessions = sessions + 1,
			redaction_total = redaction_total + excluded.redaction_total,
			duration_ms = duration_ms + excluded.duration_ms;
	INSERT INTO summary_kinds
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			min(NEW.redaction_count, 16), k.key, k.value
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a, json_each(NEW.redactions_by_kind) AS k WHERE true
		ON CONFLICT DO UPDATE SET total = total + excluded.total;
END;

CREATE TRIGGER sessions_summary_delete AFTER DELETE ON sessions BEGIN
	UPDATE summary_hours SET sessions = sessions - 1,
			redaction_total = redaction_total - OLD.redaction_count,
			duration_ms = duration_ms - (OLD.ended_at - OLD.started_at)
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16);
	DELETE FROM summary_hours
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16) AND sessions = 0;
	UPDATE summary_kinds SET total = total - (SELECT k.value FROM json_each(OLD.redactions_by_kind) AS k WHERE k.key = kind)
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16)
			AND kind IN (SELECT key FROM json_each(OLD.redactions_by_kind));
	DELETE FROM summary_kinds
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16) AND total = 0;
END;

-- An upsert that replaces a session: the old row out, the new row in.
CREATE TRIGGER sessions_summary_update AFTER UPDATE ON sessions BEGIN
	UPDATE summary_hours SET sessions = sessions - 1,
			redaction_total = redaction_total - OLD.redaction_count,
			duration_ms = duration_ms - (OLD.ended_at - OLD.started_at)
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16);
	DELETE FROM summary_hours
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16) AND sessions = 0;
	UPDATE summary_kinds SET total = total - (SELECT k.value FROM json_each(OLD.redactions_by_kind) AS k WHERE k.key = kind)
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16)
			AND kind IN (SELECT key FROM json_each(OLD.redactions_by_kind));
	DELETE FROM summary_kinds
		WHERE account_id = OLD.account_id AND agent_id IN (OLD.agent_id, '')
			AND hour = OLD.started_at - OLD.started_at % 3600000 AND status = OLD.status
			AND redactions = min(OLD.redaction_count, 16) AND total = 0;
	INSERT INTO summary_hours
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			min(NEW.redaction_count, 16), 1, NEW.redaction_count, NEW.ended_at - NEW.started_at
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a WHERE true
		ON CONFLICT DO UPDATE SET sessions = sessions + 1,
			redaction_total = redaction_total + excluded.redaction_total,
			duration_ms = duration_ms + excluded.duration_ms;
	INSERT INTO summary_kinds
		SELECT NEW.account_id, a.id, NEW.started_at - NEW.started_at % 3600000, NEW.status,
			min(NEW.redaction_count, 16), k.key, k.value
		FROM (SELECT NEW.agent_id AS id UNION ALL SELECT '') AS a, json_each(NEW.redactions_by_kind) AS k WHERE true
		ON CONFLICT DO UPDATE SET total = total + excluded.total;
END;

-- The rollups of the sessions already stored: each agent's, then each account's.
INSERT INTO summary_hours
	SELECT account_id, agent_id, started_at - started_at % 3600000 AS h, status, min(redaction_count, 16) AS r,
		count(*), sum(redaction_count), sum(ended_at - started_at)
	FROM sessions GROUP BY account_id, agent_id, h, status, r;
INSERT INTO summary_hours
	SELECT account_id, '', started_at - started_at % 3600000 AS h, status, min(redaction_count, 16) AS r,
		count(*), sum(redaction_count), sum(ended_at - started_at)
	FROM sessions GROUP BY account_id, h, status, r;
INSERT INTO summary_kinds
	SELECT account_id, agent_id, started_at - started_at % 3600000 AS h, status, min(redaction_count, 16) AS r,
		k.key, sum(k.value)
	FROM sessions, json_each(sessions.redactions_by_kind) AS k GROUP BY account_id, agent_id, h, status, r, k.key;
INSERT INTO summary_kinds
	SELECT account_id, '', started_at - started_at % 3600000 AS h, status, min(redaction_count, 16) AS r,
		k.key, sum(k.value)
	FROM sessions, json_each(sessions.redactions_by_kind) AS k GROUP BY account_id, h, status, r, k.key;
