-- E-certificate types (电子证照目录), issuers' signing keys, issued certificates.
CREATE TABLE credential_types (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    issuer_kind TEXT NOT NULL,
    claims_schema TEXT NOT NULL,
    validity_days BIGINT,
    created_at BIGINT NOT NULL
);

-- Ed25519 keys of issuing organisations; the secret is sealed with the vault. Retired
-- keys stay in the DID document so that what they signed still verifies.
CREATE TABLE credential_issuer_keys (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    public_key_multibase TEXT NOT NULL,
    secret_enc BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE UNIQUE INDEX credential_issuer_keys_current ON credential_issuer_keys(organisation_id) WHERE retired_at IS NULL;

-- Issued certificates. The signed document holds personal data: it is sealed.
CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    type_id TEXT NOT NULL REFERENCES credential_types(id),
    issuer_org_id TEXT NOT NULL REFERENCES organisations(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    document_enc BLOB NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    status_index BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    issued_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status_changed_at BIGINT
);
CREATE INDEX credentials_person ON credentials(person_id, created_at);
CREATE INDEX credentials_issuer ON credentials(issuer_org_id, created_at);
-- Each certificate's place in its issuer's status lists (chosen at random).
CREATE UNIQUE INDEX credentials_status_index ON credentials(issuer_org_id, status_index);
