-- Hosted records, provider signing keys and per-day gateway usage.

-- One record per (resource, subject). The subject (resident ID or credit code) is kept
-- only as a keyed hash; the record itself is sealed (AES-256-GCM, bound to resource and
-- subject). person_id links person subjects for the data footprint.
CREATE TABLE exchange_records (
    resource_id TEXT NOT NULL REFERENCES exchange_resources(id),
    subject_hash TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    data BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (resource_id, subject_hash)
);

-- Ed25519 keys that sign gateway responses, one current key per provider organisation;
-- retired keys stay published so that what they signed still verifies.
CREATE TABLE exchange_keys (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    public_key TEXT NOT NULL,
    secret_enc BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX exchange_keys_current ON exchange_keys(organisation_id) WHERE retired_at IS NULL;

-- Calls per (resource, consumer, day), flushed from memory every few seconds; the audit
-- log holds every call, this is its summary for the traffic pages.
CREATE TABLE exchange_usage (
    resource_id TEXT NOT NULL REFERENCES exchange_resources(id),
    consumer_org_id TEXT NOT NULL REFERENCES organisations(id),
    day BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    denied BIGINT NOT NULL,
    PRIMARY KEY (resource_id, consumer_org_id, day)
);
