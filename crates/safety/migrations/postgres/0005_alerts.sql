-- CAP alerts: drafted here (draft → approved by a second officer → issued) or received
-- from other authorities; updates and cancels point at the record they replace. `body` is
-- the alert as JSON (the CAP 1.2 model); `original` an imported document verbatim.
CREATE TABLE safety_alerts (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL,
    sender TEXT NOT NULL,
    sent TEXT NOT NULL,
    status TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    scope TEXT NOT NULL,
    origin TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    original TEXT,
    received_version TEXT,
    signed BOOLEAN NOT NULL,
    refers_to TEXT REFERENCES safety_alerts(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    approved_by TEXT,
    approved_at BIGINT,
    issued_by TEXT,
    issued_at BIGINT,
    UNIQUE (sender, identifier)
);
CREATE INDEX safety_alerts_state ON safety_alerts(state, created_at);
