-- A resident's last known location, shared by her for alerts (opt-in; deleting it
-- withdraws it). The point is sealed in the vault; only its 0.01° cell is in clear, so an
-- alert's area finds its candidates by index and opens only theirs.
CREATE TABLE safety_locations (
    person_id TEXT PRIMARY KEY,
    cell_lat BIGINT NOT NULL,
    cell_lon BIGINT NOT NULL,
    point_enc BYTEA NOT NULL,
    shared_at BIGINT NOT NULL
);
CREATE INDEX safety_locations_cell ON safety_locations(cell_lat, cell_lon);

-- The notice each issued alert went out with: the chain it belongs to (an update's and a
-- cancel's are their original's), what it matched and whom it reached.
CREATE TABLE safety_alert_notices (
    alert_id TEXT PRIMARY KEY REFERENCES safety_alerts(id),
    chain_id TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    regions TEXT NOT NULL,
    by_region BIGINT NOT NULL,
    by_location BIGINT NOT NULL,
    reached BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX safety_alert_notices_chain ON safety_alert_notices(chain_id);

-- How each person an alert chain reached stands, once she answered or a community worker
-- recorded a step (without a row she is notified, or acknowledged if she acknowledged the
-- notice). `asked_help` stays set once she asked; `by_herself` says the status is her (or
-- her proxy's) word, not a worker's; the note is sealed.
CREATE TABLE safety_evacuation (
    chain_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    status TEXT NOT NULL,
    asked_help BOOLEAN NOT NULL,
    note_enc BYTEA,
    shelter TEXT,
    by_herself BOOLEAN NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (chain_id, person_id)
);
