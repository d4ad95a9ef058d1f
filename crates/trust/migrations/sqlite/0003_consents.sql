-- Consent artefacts (in the spirit of DEPA / Account Aggregator): a person allows one
-- consumer organisation to receive named fields of one resource from one provider, for a
-- purpose, within a window, at most so often. `resource_id` names an exchange resource;
-- trust sits below exchange, so it is not a foreign key.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons(id),
    consumer_org_id TEXT NOT NULL REFERENCES organisations(id),
    provider_org_id TEXT NOT NULL REFERENCES organisations(id),
    resource_id TEXT NOT NULL,
    resource_name TEXT NOT NULL,
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    fetch_type TEXT NOT NULL,
    max_fetches_per_day BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT NOT NULL,
    granted_by_account_id TEXT NOT NULL,
    proxy_authorisation_id TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    fetches BIGINT NOT NULL DEFAULT 0,
    fetch_day BIGINT NOT NULL DEFAULT 0,
    fetches_on_day BIGINT NOT NULL DEFAULT 0,
    last_fetched_at BIGINT
);
CREATE INDEX consents_person ON consents(person_id, created_at);
CREATE INDEX consents_match ON consents(person_id, consumer_org_id, resource_id);
