-- Version 2: the feed of the live tail (sessions.Tailer).
--
-- Every session that PutSessions writes, created or replaced, takes the next position of one
-- counter of the database: feed.position holds the last position handed out. upsertSQL sets
-- each session's feed_position from the counter and the session's place in its batch, and the
-- triggers below move the counter past it, in the same statement, so that a batch stays one
-- statement (see upsertSQL: a transaction of two would keep a statement journal). The counter
-- is a row of its own rather than max(feed_position), so that a purge of the newest sessions
-- never hands their positions out again.
--
-- Writes are serialized by SQLite's write lock, which a statement holds until it commits: the
-- positions commit in the order they are handed out, and a reader's snapshot holds every
-- position up to some point and none after it. A tail may pass a position for good.
--
-- Sessions of version 1 keep position 0: a tail begins after TailPosition, which is past them.

CREATE TABLE feed (
	id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	position INTEGER NOT NULL CHECK (position >= 0)
) STRICT;

INSERT INTO feed (id, position) VALUES (1, 0);

ALTER TABLE sessions ADD COLUMN feed_position INTEGER NOT NULL DEFAULT 0;

-- A tail reads one account's feed in order, from a position on.
CREATE INDEX sessions_feed ON sessions (account_id, feed_position);

CREATE TRIGGER sessions_feed_insert AFTER INSERT ON sessions
BEGIN
	UPDATE feed SET position = NEW.feed_position WHERE id = 1 AND position < NEW.feed_position;
END;

CREATE TRIGGER sessions_feed_update AFTER UPDATE OF feed_position ON sessions
BEGIN
	UPDATE feed SET position = NEW.feed_position WHERE id = 1 AND position < NEW.feed_position;
END;
