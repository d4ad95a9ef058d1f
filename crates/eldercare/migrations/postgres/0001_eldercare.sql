-- Elders enrolled in community home-based care, their care circles, devices and readings,
-- alerts with their escalation and timeline, and the alert rules.
CREATE TABLE eldercare_elders (
    person_id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    lives_alone BIGINT NOT NULL DEFAULT 0,
    baselines TEXT NOT NULL DEFAULT '{}',
    last_activity_at BIGINT,
    last_water_at BIGINT,
    enrolled_by TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL
);
CREATE INDEX eldercare_elders_org ON eldercare_elders(organisation_id);

CREATE TABLE eldercare_members (
    id TEXT PRIMARY KEY,
    elder_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    role TEXT NOT NULL,
    relationship TEXT NOT NULL,
    organisation_id TEXT,
    level BIGINT NOT NULL,
    contact_order BIGINT NOT NULL,
    channels TEXT NOT NULL,
    quiet_from BIGINT,
    quiet_until BIGINT,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    UNIQUE (elder_id, person_id)
);
CREATE INDEX eldercare_members_person ON eldercare_members(person_id);

CREATE TABLE eldercare_devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    elder_id TEXT,
    heartbeat_seconds BIGINT NOT NULL,
    online BIGINT NOT NULL DEFAULT 1,
    last_seen_at BIGINT,
    last_reading_at BIGINT,
    registered_by TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    bound_at BIGINT
);
CREATE INDEX eldercare_devices_elder ON eldercare_devices(elder_id);
CREATE INDEX eldercare_devices_seen ON eldercare_devices(online, last_seen_at);

CREATE TABLE eldercare_readings (
    device_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    observed_at BIGINT NOT NULL,
    elder_id TEXT NOT NULL,
    value_enc BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, metric, observed_at)
);
CREATE INDEX eldercare_readings_elder ON eldercare_readings(elder_id, observed_at);

CREATE TABLE eldercare_rejections (
    device_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, reason)
);

CREATE TABLE eldercare_alerts (
    id TEXT PRIMARY KEY,
    elder_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    device_id TEXT,
    state TEXT NOT NULL,
    level BIGINT NOT NULL,
    raised_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    folded BIGINT NOT NULL DEFAULT 0,
    next_step_at BIGINT,
    closed_at BIGINT,
    open_key TEXT UNIQUE
);
CREATE INDEX eldercare_alerts_due ON eldercare_alerts(next_step_at);
CREATE INDEX eldercare_alerts_elder ON eldercare_alerts(elder_id, raised_at);

CREATE TABLE eldercare_alert_events (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    level BIGINT,
    scheduled_at BIGINT,
    by_person_id TEXT,
    by_name TEXT,
    response TEXT,
    detail TEXT NOT NULL,
    evidence_enc BYTEA
);
CREATE INDEX eldercare_alert_events_alert ON eldercare_alert_events(alert_id, at);

CREATE TABLE eldercare_rules (
    scope TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
