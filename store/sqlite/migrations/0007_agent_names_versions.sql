-- Version 7: a version of each account's agent names, for the store's cache of names.
--
-- Every list row showed its agent's current name from a lookup of its own (the covering index
-- agents_names of version 6). A store now keeps the names of the agents its pages have met, per
-- account, tagged with the account's version from this table: a page reads the version once, in
-- its own statement, and uses the kept names only when their version is the page's. Every change
-- of a name, or of the agents of an account, adds one to the account's version in the
-- transaction that makes it, so kept names of another version are never used, whichever process
-- made the change. An account without a row has version 0: none of its agents has changed since
-- this migration. A new agent changes no name that a store keeps. The index of version 6 served
-- only the per-row lookups, and goes.
CREATE TABLE agent_names_versions (
	account_id TEXT NOT NULL PRIMARY KEY,
	version    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- PutAgent's upsert of an existing agent updates its name, even to the same value: the WHEN
-- clause leaves the version as it is then.
CREATE TRIGGER agents_names_changed AFTER UPDATE OF name, account_id ON agents
	WHEN NEW.name IS NOT OLD.name OR NEW.account_id IS NOT OLD.account_id
BEGIN
	INSERT INTO agent_names_versions (account_id, version) VALUES (OLD.account_id, 1)
		ON CONFLICT (account_id) DO UPDATE SET version = version + 1;
	INSERT INTO agent_names_versions (account_id, version)
		SELECT NEW.account_id, 1 WHERE NEW.account_id IS NOT OLD.account_id
		ON CONFLICT (account_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER agents_deleted AFTER DELETE ON agents
BEGIN
	INSERT INTO agent_names_versions (account_id, version) VALUES (OLD.account_id, 1)
		ON CONFLICT (account_id) DO UPDATE SET version = version + 1;
END;

DROP INDEX agents_names;
