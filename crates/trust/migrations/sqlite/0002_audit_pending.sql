-- Audit records written inside a domain transaction (so the act and its record commit
-- or vanish together); the audit writer chains them and removes them from here.
CREATE TABLE audit_pending (
    id TEXT PRIMARY KEY,
    partition TEXT NOT NULL,
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
    outcome TEXT NOT NULL
);
