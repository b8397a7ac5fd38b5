-- The configuration store (crates/store/src/lib.rs). One row per resource; see crates/store/src/rows.rs.

-- The newest revision. Commits move it with `UPDATE ... WHERE revision = expected`, the
-- optimistic check that lets only one of two writers at the same revision win.
CREATE TABLE meta (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    revision  INTEGER NOT NULL
);
INSERT INTO meta (singleton, revision) VALUES (1, 0);

CREATE TABLE revisions (
    revision   INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    actor      TEXT NOT NULL,
    summary    TEXT NOT NULL
);

CREATE TABLE resources (
    kind     TEXT NOT NULL,
    parent   TEXT NOT NULL,
    id       TEXT NOT NULL,
    position INTEGER NOT NULL,
    body     TEXT NOT NULL,
    revision INTEGER NOT NULL,
    PRIMARY KEY (kind, parent, id)
);

CREATE TABLE resource_history (
    revision INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    parent   TEXT NOT NULL,
    id       TEXT NOT NULL,
    op       TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    body     TEXT,
    PRIMARY KEY (revision, kind, parent, id)
);
CREATE INDEX resource_history_by_resource ON resource_history (kind, parent, id, revision);

-- The management API's access keys, encrypted like every other secret.
CREATE TABLE access_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
