-- Version 8: the identity of the feed.
--
-- A position of the feed is a number of this database's counter, and the same number means
-- another point in another database: a client that resumes a tail on a server of another
-- database that shares its cursor key (blue/green onto a fresh file, one file per replica, a
-- restored backup) would skip every write up to it, or be shown again what it has seen. Each
-- database draws a random identity here, which every position now carries (sqlite.Store.Tail),
-- so that a position of another database is refused rather than followed. A copy of the file
-- keeps the identity; a position that such a copy has not reached yet is refused as ahead of
-- its feed.
ALTER TABLE feed ADD COLUMN identity TEXT NOT NULL DEFAULT '';

UPDATE feed SET identity = lower(hex(randomblob(8))) WHERE id = 1;
