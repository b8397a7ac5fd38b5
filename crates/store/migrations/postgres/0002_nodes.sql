-- The node registry (crates/store/src/nodes.rs): every gateway node upserts its row every few
-- seconds. Heartbeats are the database's clock in milliseconds since the Unix epoch, so the
-- age of a heartbeat never depends on the nodes' clocks agreeing.
CREATE TABLE nodes (
    name              TEXT PRIMARY KEY,
    location          TEXT NOT NULL,
    applied_revision  BIGINT NOT NULL,
    started_at        TEXT NOT NULL,
    last_heartbeat_ms BIGINT NOT NULL,
    version           TEXT NOT NULL,
    status            JSONB NOT NULL
);
