-- The service catalogue (政务服务事项): one row per item; its definition (departments,
-- legal basis, eligibility, materials, form, field sources, steps, result) is JSON.
CREATE TABLE service_items (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- Lower-cased name, summary and keywords, for plain-words search.
    search_text TEXT NOT NULL,
    lead_org_id TEXT NOT NULL REFERENCES organisations(id),
    definition TEXT NOT NULL,
    statutory_days BIGINT NOT NULL,
    committed_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Life events (一件事一次办): several items applied for at once.
CREATE TABLE life_events (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    summary TEXT NOT NULL,
    item_codes TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- What a resident applies for: one item, or a life event's items; the form she fills
-- once is sealed at rest.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL REFERENCES persons(id),
    account_id TEXT NOT NULL,
    proxy_authorisation_id TEXT,
    life_event_id TEXT REFERENCES life_events(id),
    title TEXT NOT NULL,
    item_ids TEXT NOT NULL,
    state TEXT NOT NULL,
    form_enc BYTEA NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT
);
CREATE INDEX applications_person ON applications(person_id, id);

-- One item of an application as a department processes it (办件): its workflow step,
-- its working-day clock, its outcome.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    item_id TEXT NOT NULL REFERENCES service_items(id),
    lead_org_id TEXT NOT NULL,
    step_index BIGINT NOT NULL,
    step_org_id TEXT NOT NULL,
    step_role TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    submitted_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    paused_since TEXT,
    paused_days BIGINT NOT NULL,
    finished_on TEXT,
    working_days BIGINT,
    escalated_at BIGINT,
    result_credential_id TEXT,
    outcome_note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_application ON cases(application_id);
CREATE INDEX cases_queue ON cases(step_org_id, state, due_on);
CREATE INDEX cases_item ON cases(item_id);

-- How each required material was satisfied: a certificate from the wallet, a record
-- fetched through the exchange, or an upload. What was fetched is sealed.
CREATE TABLE application_materials (
    application_id TEXT NOT NULL REFERENCES applications(id),
    material_key TEXT NOT NULL,
    source TEXT NOT NULL,
    reference TEXT NOT NULL,
    detail_enc BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (application_id, material_key)
);

-- Uploaded files: the bytes (sealed) are in the blob store under blob_key.
CREATE TABLE application_uploads (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    material_key TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX application_uploads_application ON application_uploads(application_id);

-- The timeline: every state change of an application or one of its cases.
CREATE TABLE application_events (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    case_id TEXT,
    kind TEXT NOT NULL,
    step_name TEXT,
    actor_name TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX application_events_application ON application_events(application_id, created_at);

-- 好差评: the applicant's rating of a finished case.
CREATE TABLE case_ratings (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    item_id TEXT NOT NULL,
    score BIGINT NOT NULL,
    comment TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX case_ratings_item ON case_ratings(item_id);

-- The holiday calendar: public holidays (working = 0) and make-up working days on a
-- weekend (调休, working = 1). Other weekdays work, other weekends rest.
CREATE TABLE holidays (
    day TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    working BIGINT NOT NULL
);
