-- The register's change feed (a transactional outbox): a row per person whose register
-- data changed (registered, tagged, untagged), written in the same transaction as the
-- change. The rules crate's follower re-evaluates the benefit policies for those persons
-- and their households, then deletes the rows it handled.
CREATE TABLE register_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL
);
