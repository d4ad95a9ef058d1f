-- Relief supplies: depots and what they hold, the roads from depots to regions with what
-- moving one unit costs (minutes of travel), and the allocation plans computed from them
-- (`body` the plan as JSON; dispatching takes its shipments out of the depots' stock).
CREATE TABLE safety_depots (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions(code),
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE safety_stock (
    depot_code TEXT NOT NULL REFERENCES safety_depots(code),
    supply TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (depot_code, supply)
);

CREATE TABLE safety_routes (
    depot_code TEXT NOT NULL REFERENCES safety_depots(code),
    region_code TEXT NOT NULL REFERENCES regions(code),
    minutes DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (depot_code, region_code)
);

CREATE TABLE safety_supply_plans (
    id TEXT PRIMARY KEY,
    horizon_hours INTEGER NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    dispatched_by TEXT,
    dispatched_at BIGINT
);
CREATE INDEX safety_supply_plans_created ON safety_supply_plans(created_at);
