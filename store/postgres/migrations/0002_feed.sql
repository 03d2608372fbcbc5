-- Version 2: the feed of the live tail (sessions.Tailer).
--
-- Every session that PutSessions writes, created or replaced, takes a feed position: the ID of
-- its transaction (feed_xid, pg_current_xact_id() as a number) and a number from a sequence
-- (feed_seq), which orders the rows of one transaction. Both are column defaults, so that the
-- COPY and the INSERT of PutSessions set them without naming them, and the upsert's DO UPDATE
-- copies them from excluded.
--
-- Positions are handed out before their transactions commit, and commit out of order: neither
-- a sequence nor a transaction ID alone tells a tail which positions are final. The order
-- (feed_xid, feed_seq) does, with a visibility watermark per account (tail.go): PutSessions
-- holds a shared advisory lock of each account it writes, taken before its first write, and a
-- tail bounds the watermark by the snapshot's xmax and the IDs of the holders of its account's
-- lock (pg_locks): every transaction that writes the account with an ID below the watermark has
-- ended. So the rows below the watermark are final, in the feed's order, and a tail delivers a
-- row only when its feed_xid is below the watermark. A long transaction of a writer of the
-- account holds the watermark back, and delays the account's tails; it never makes them skip a
-- row. Transactions that do not write the account, however long, do not delay them.
--
-- Sessions of version 1 keep feed_xid 0: a tail begins after TailPosition, which is past them.
--
-- The sequence is not owned by the table, so that the partitioning recipe of docs/postgres.md,
-- which copies the defaults into a new table and drops the old one, keeps it.

CREATE SEQUENCE sessions_feed_seq AS bigint CACHE 1000;

-- Constant defaults first, so that adding the columns does not rewrite the table.
ALTER TABLE sessions
	ADD COLUMN feed_xid bigint NOT NULL DEFAULT 0,
	ADD COLUMN feed_seq bigint NOT NULL DEFAULT 0;

ALTER TABLE sessions
	ALTER COLUMN feed_xid SET DEFAULT pg_current_xact_id()::text::bigint,
	ALTER COLUMN feed_seq SET DEFAULT nextval('sessions_feed_seq');

-- A tail reads one account's feed in order, from a position on.
CREATE INDEX sessions_feed ON sessions (account_id, feed_xid, feed_seq);

-- Wake-ups: every statement that writes sessions notifies, in its transaction (so at its
-- commit, and not at all if it rolls back), the channel sessions_feed with the schema's name,
-- which the stores of that schema listen for (listen.go).
CREATE FUNCTION sessions_feed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('sessions_feed', TG_TABLE_SCHEMA);
	RETURN NULL;
END
$$;

CREATE TRIGGER sessions_feed_notify AFTER INSERT OR UPDATE ON sessions
	FOR EACH STATEMENT EXECUTE FUNCTION sessions_feed_notify();
