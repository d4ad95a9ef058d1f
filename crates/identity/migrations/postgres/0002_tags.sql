-- Tags residents carry for audiences (独居老人, 残疾人…): the vocabulary is public; who
-- carries a tag is personal data, so membership holds only a keyed hash of the code
-- (HMAC under the vault's key): a copy of the database alone does not say who is on
-- which list, while a fan-out still selects members set-based by one indexed equality.
CREATE TABLE tags (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    created_at BIGINT NOT NULL
);

-- No organisation column: which organisation keeps a list would say which list it is.
CREATE TABLE person_tags (
    tag_hash TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tag_hash, person_id)
);
CREATE INDEX person_tags_person ON person_tags(person_id);
