-- The static assessment's inputs (regions' hazard indexes, shelters) and its results;
-- the dynamic warnings' forecasts, each region's current level per horizon, and every
-- change of a level.
CREATE TABLE safety_hazards (
    region_code TEXT PRIMARY KEY REFERENCES regions(code),
    hazard DOUBLE PRECISION NOT NULL,
    basis TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE safety_shelters (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    capacity BIGINT NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX safety_shelters_region ON safety_shelters(region_code);

CREATE TABLE safety_assessments (
    id TEXT PRIMARY KEY,
    assessed_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX safety_assessments_at ON safety_assessments(assessed_at);

CREATE TABLE safety_forecasts (
    region_code TEXT NOT NULL REFERENCES regions(code),
    horizon_hours INTEGER NOT NULL,
    rain_mm DOUBLE PRECISION NOT NULL,
    issued_at BIGINT NOT NULL,
    PRIMARY KEY (region_code, horizon_hours)
);

CREATE TABLE safety_levels (
    region_code TEXT NOT NULL REFERENCES regions(code),
    horizon_hours INTEGER NOT NULL,
    level TEXT NOT NULL,
    reasons TEXT NOT NULL,
    as_of BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (region_code, horizon_hours)
);

CREATE TABLE safety_level_changes (
    id TEXT PRIMARY KEY,
    region_code TEXT NOT NULL REFERENCES regions(code),
    horizon_hours INTEGER NOT NULL,
    from_level TEXT NOT NULL,
    to_level TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    residents_notified BIGINT NOT NULL
);
CREATE INDEX safety_level_changes_at ON safety_level_changes(changed_at);
