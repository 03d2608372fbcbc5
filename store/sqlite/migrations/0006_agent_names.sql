-- Version 6: an index that answers the agent's name of a session from one seek.
--
-- Every list row reads its agent's current name (listSelect), by the agent's ID. agents is a
-- rowid table, so a lookup through its primary key's index took two seeks: the index, then the
-- row for its name. This index holds the name beside the ID, so that the lookup is one seek of a
-- covering index. It costs PutAgent one more index entry, and nothing to a session's write (its
-- foreign key checks the unique (account_id, id) index).
CREATE INDEX agents_names ON agents (id, name);
