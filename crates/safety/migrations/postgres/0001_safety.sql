-- Monitoring stations registered by departments, their readings (one per station and
-- instant: a reading sent twice is stored once) and the refused readings, counted by
-- station and reason.
CREATE TABLE safety_stations (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    warning_level DOUBLE PRECISION,
    guarantee_level DOUBLE PRECISION,
    created_at BIGINT NOT NULL,
    last_observed_at BIGINT,
    last_value DOUBLE PRECISION
);
CREATE INDEX safety_stations_region ON safety_stations(region_code);

CREATE TABLE safety_observations (
    station_id TEXT NOT NULL REFERENCES safety_stations(id),
    observed_at BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (station_id, observed_at)
);

CREATE TABLE safety_rejections (
    station_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (station_code, reason)
);
