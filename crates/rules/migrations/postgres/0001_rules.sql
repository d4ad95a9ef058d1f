-- Policies published with their rules, and the proactive decisions (免申即享) each
-- run makes: one row per policy and person, from proposal to enrolment, review or end.
CREATE TABLE rules_policies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    package TEXT NOT NULL,
    variable TEXT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    basis TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_run_at BIGINT,
    last_digest TEXT
);

CREATE TABLE rules_decisions (
    id TEXT PRIMARY KEY,
    policy_code TEXT NOT NULL REFERENCES rules_policies(code),
    person_id TEXT NOT NULL REFERENCES persons(id),
    status TEXT NOT NULL,
    period TEXT NOT NULL,
    amount DOUBLE PRECISION NOT NULL,
    sentence_enc BYTEA NOT NULL,
    explanation_enc BYTEA NOT NULL,
    inputs_enc BYTEA NOT NULL,
    review_reason_enc BYTEA,
    digest TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    decided_by TEXT,
    UNIQUE (policy_code, person_id)
);
CREATE INDEX rules_decisions_status ON rules_decisions(policy_code, status);
CREATE INDEX rules_decisions_person ON rules_decisions(person_id);
