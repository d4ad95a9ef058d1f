-- Community workers' visits to the elders they look after.
CREATE TABLE eldercare_visits (
    id TEXT PRIMARY KEY,
    elder_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    visited_by TEXT NOT NULL,
    visitor_name TEXT NOT NULL,
    visited_at BIGINT NOT NULL,
    note_enc BLOB
);
CREATE INDEX eldercare_visits_elder ON eldercare_visits(elder_id, visited_at);
