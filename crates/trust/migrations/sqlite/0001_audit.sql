-- One hash chain per partition (an organisation, or a shard of accounts), so appends
-- never serialise the whole system. Records are append-only.
CREATE TABLE audit_records (
    partition TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor_account_id TEXT,
    actor_person_id TEXT,
    actor_organisation_id TEXT,
    on_behalf_of_person_id TEXT,
    subject_person_id TEXT,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    purpose TEXT NOT NULL,
    basis_kind TEXT NOT NULL,
    basis_ref TEXT,
    outcome TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (partition, seq)
);
CREATE INDEX audit_subject ON audit_records(subject_person_id, id);
CREATE INDEX audit_actor_org ON audit_records(actor_organisation_id, id);

CREATE TABLE audit_heads (
    partition TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
