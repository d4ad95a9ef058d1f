-- The data resource catalogue (数据资源目录), sharing requests (供需对接) and agreements.
CREATE TABLE exchange_resources (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    provider_org_id TEXT NOT NULL REFERENCES organisations(id),
    fields TEXT NOT NULL,
    sharing_class TEXT NOT NULL,
    legal_reason TEXT,
    update_frequency TEXT NOT NULL,
    serving TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    endpoint_url TEXT,
    keywords TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX exchange_resources_provider ON exchange_resources(provider_org_id);

CREATE TABLE exchange_requests (
    id TEXT PRIMARY KEY,
    resource_id TEXT NOT NULL REFERENCES exchange_resources(id),
    consumer_org_id TEXT NOT NULL REFERENCES organisations(id),
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    statutory BOOLEAN NOT NULL,
    expected_calls_per_day BIGINT NOT NULL,
    status TEXT NOT NULL,
    decision_reason TEXT,
    requested_by TEXT NOT NULL,
    decided_by TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX exchange_requests_resource ON exchange_requests(resource_id);
CREATE INDEX exchange_requests_consumer ON exchange_requests(consumer_org_id);

CREATE TABLE exchange_agreements (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE REFERENCES exchange_requests(id),
    resource_id TEXT NOT NULL REFERENCES exchange_resources(id),
    provider_org_id TEXT NOT NULL REFERENCES organisations(id),
    consumer_org_id TEXT NOT NULL REFERENCES organisations(id),
    fields TEXT NOT NULL,
    purpose TEXT NOT NULL,
    legal_basis TEXT NOT NULL,
    statutory BOOLEAN NOT NULL,
    rate_limit_per_minute BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX exchange_agreements_consumer ON exchange_agreements(consumer_org_id, resource_id);
CREATE INDEX exchange_agreements_provider ON exchange_agreements(provider_org_id);
