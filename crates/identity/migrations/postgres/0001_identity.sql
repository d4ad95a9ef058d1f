CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT REFERENCES regions(code),
    urban BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX regions_parent ON regions(parent_code);

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    parent_id TEXT REFERENCES organisations(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    created_at BIGINT NOT NULL
);

CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    resident_id_hash TEXT NOT NULL UNIQUE,
    resident_id_enc BYTEA NOT NULL,
    resident_id_masked TEXT NOT NULL,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    phone_hash TEXT,
    phone_enc BYTEA,
    phone_masked TEXT,
    address_enc BYTEA,
    region_code TEXT NOT NULL REFERENCES regions(code),
    household_id TEXT REFERENCES households(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX persons_region ON persons(region_code);
CREATE INDEX persons_household ON persons(household_id);
CREATE INDEX persons_phone ON persons(phone_hash);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    person_id TEXT REFERENCES persons(id),
    display_name TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX accounts_person ON accounts(person_id);

CREATE TABLE role_bindings (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX role_bindings_unique ON role_bindings(account_id, role, COALESCE(organisation_id, ''));
CREATE INDEX role_bindings_org ON role_bindings(organisation_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE login_throttle (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE proxy_authorisations (
    id TEXT PRIMARY KEY,
    principal_person_id TEXT NOT NULL REFERENCES persons(id),
    proxy_person_id TEXT NOT NULL REFERENCES persons(id),
    relationship TEXT NOT NULL,
    scopes TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_by_account_id TEXT REFERENCES accounts(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX proxy_principal ON proxy_authorisations(principal_person_id);
CREATE INDEX proxy_proxy ON proxy_authorisations(proxy_person_id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
