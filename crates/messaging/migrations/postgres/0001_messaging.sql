-- Notices an organisation sends to an audience, and each recipient's inbox entry.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    sender_org_id TEXT NOT NULL REFERENCES organisations(id),
    sender_account_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The audience as sent (JSON): region, age band, explicit persons.
    audience TEXT NOT NULL,
    ack_required BIGINT NOT NULL,
    recipients BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_sender ON messages(sender_org_id, created_at);

-- One row per recipient, written set-based (INSERT … SELECT) in the message's transaction.
-- Partitioned by person: a resident's inbox is one index range.
CREATE TABLE inbox_entries (
    person_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    acked_at BIGINT,
    PRIMARY KEY (person_id, message_id)
);
CREATE INDEX inbox_entries_message ON inbox_entries(message_id);
