-- Dynamic passes (动态通行码): the pass catalogue, and the scans that used each pass once.
CREATE TABLE pass_types (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    issuer_org_id TEXT NOT NULL REFERENCES organisations(id),
    -- The certificate type a pass is derived from, or none for a rule-derived pass.
    credential_type_id TEXT REFERENCES credential_types(id),
    -- The rule a pass is derived from: the holder's age in whole years at least this.
    min_age BIGINT,
    ttl_seconds BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One row per accepted scan, keyed by the pass's unique id: a second presentation of the
-- same pass finds its row and is refused as a replay, on every node of a cluster.
-- Rows past their pass's expiry are swept (an expired pass is refused anyway).
CREATE TABLE pass_scans (
    jti TEXT PRIMARY KEY,
    pass_type_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    scanner_org_id TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    scanned_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pass_scans_expiry ON pass_scans(expires_at);
