-- Care services offered by providers, orders placed for elders with the subsidy each was
-- given, their timelines, and the subsidised minutes each elder has used per month.
CREATE TABLE eldercare_services (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    unit TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    price_fen BIGINT NOT NULL,
    regions TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (organisation_id, name)
);
CREATE INDEX eldercare_services_kind ON eldercare_services(kind, active);

CREATE TABLE eldercare_orders (
    id TEXT PRIMARY KEY,
    elder_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    wanted_at BIGINT NOT NULL,
    scheduled_at BIGINT,
    state TEXT NOT NULL,
    month TEXT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    price_fen BIGINT NOT NULL,
    subsidy_policy TEXT,
    subsidy_minutes BIGINT NOT NULL,
    subsidy_fen BIGINT NOT NULL,
    payable_fen BIGINT NOT NULL,
    subsidy_reason_enc BLOB,
    note_enc BLOB,
    ordered_by TEXT NOT NULL,
    ordered_by_name TEXT NOT NULL,
    ordered_at BIGINT NOT NULL,
    completed_at BIGINT,
    rating BIGINT,
    rating_comment_enc BLOB,
    updated_at BIGINT NOT NULL
);
CREATE INDEX eldercare_orders_elder ON eldercare_orders(elder_id, ordered_at);
CREATE INDEX eldercare_orders_provider ON eldercare_orders(provider_id, state, wanted_at);
CREATE INDEX eldercare_orders_month ON eldercare_orders(month, state);
CREATE INDEX eldercare_orders_service ON eldercare_orders(service_id, rating);
CREATE INDEX eldercare_orders_open ON eldercare_orders(state, wanted_at);

CREATE TABLE eldercare_order_events (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    by_name TEXT NOT NULL,
    detail_enc BLOB NOT NULL
);
CREATE INDEX eldercare_order_events_order ON eldercare_order_events(order_id, at);

CREATE TABLE eldercare_subsidy_use (
    elder_id TEXT NOT NULL,
    month TEXT NOT NULL,
    used_minutes BIGINT NOT NULL,
    PRIMARY KEY (elder_id, month)
);
