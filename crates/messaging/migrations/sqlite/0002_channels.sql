-- How each resident wants notices beyond her inbox: SMS to her registered phone (on
-- unless she turns it off) and e-mail to an address she gives (sealed, masked for lists).
CREATE TABLE notification_settings (
    person_id TEXT PRIMARY KEY REFERENCES persons(id),
    sms BIGINT NOT NULL,
    email BIGINT NOT NULL,
    email_enc BLOB,
    email_masked TEXT,
    updated_at BIGINT NOT NULL
);

-- Organisations' systems that receive every broadcast notice (optionally only those for
-- one region) as a signed HTTP POST.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    region_prefix TEXT NOT NULL,
    secret_enc BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX webhooks_org ON webhooks(organisation_id);

-- The delivery log: one row per notice, channel and recipient (a person for sms and
-- email, a webhook for webhooks), written set-based in the notice's own transaction and
-- worked off by the delivery worker with retries.
CREATE TABLE deliveries (
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    last_error TEXT,
    provider_ref TEXT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, channel, recipient)
);
CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);

-- What the outbox channel "sent" (channel_outbox = true): the demo's SMS and e-mail,
-- addresses masked.
CREATE TABLE message_outbox (
    message_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    address_masked TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, channel, recipient)
);
CREATE INDEX message_outbox_time ON message_outbox(created_at);
