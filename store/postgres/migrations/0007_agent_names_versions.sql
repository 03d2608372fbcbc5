-- Version 7: a version of each account's agent names, for the stores' cache of names.
--
-- An account-wide page shows each session's agent's current name. Reading it for every row (a
-- lookup in agents_pkey per row) made such a page cost 1.4 to 1.7 times the plain keyset query.
-- A store now keeps the names of the agents its pages have met, per account, tagged with the
-- account's version from this table; a page reads the version once (one lookup), and uses the
-- kept names only when their version is the page's. Every change of a name, or of the agents
-- of an account, adds one to the account's version in the transaction that makes it, so a page
-- and the version it reads come from one snapshot, and kept names of another version are never
-- used. An account without a row has version 0: none of its agents has changed since this
-- migration. A new agent changes no name that a store keeps.
CREATE TABLE agent_names_versions (
	account_id text COLLATE "C" NOT NULL,
	version    bigint NOT NULL,
	CONSTRAINT agent_names_versions_pkey PRIMARY KEY (account_id)
);

CREATE FUNCTION sessions_agent_names_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO agent_names_versions AS v (account_id, version) VALUES (OLD.account_id, 1)
		ON CONFLICT (account_id) DO UPDATE SET version = v.version + 1;
	IF TG_OP = 'UPDATE' AND NEW.account_id IS DISTINCT FROM OLD.account_id THEN
		INSERT INTO agent_names_versions AS v (account_id, version) VALUES (NEW.account_id, 1)
			ON CONFLICT (account_id) DO UPDATE SET version = v.version + 1;
	END IF;
	RETURN NULL;
END
$$;

-- PutAgent's upsert of an existing agent updates its name, even to the same value: the WHEN
-- clause leaves the version as it is then.
CREATE TRIGGER agents_names_changed AFTER UPDATE ON agents
	FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name OR NEW.account_id IS DISTINCT FROM OLD.account_id)
	EXECUTE FUNCTION sessions_agent_names_changed();
CREATE TRIGGER agents_deleted AFTER DELETE ON agents
	FOR EACH ROW EXECUTE FUNCTION sessions_agent_names_changed();
