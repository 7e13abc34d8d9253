-- ESR releases, numbered and quarterly, and the approved requests allocated to them. Every move of a
-- request between releases is kept, with its reason, for the Development Schedule.
CREATE TABLE releases (
    id            bigserial PRIMARY KEY,
    number        integer NOT NULL UNIQUE CHECK (number > 0),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    target_date   date NOT NULL,
    status        text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'released')),
    capacity_days numeric(7, 1) CHECK (capacity_days >= 0),
    released_at   timestamptz,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE allocations (
    request_id   bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    release_id   bigint NOT NULL REFERENCES releases (id),
    allocated_by bigint NOT NULL REFERENCES users (id),
    allocated_at timestamptz NOT NULL
);
CREATE INDEX allocations_release_idx ON allocations (release_id);

CREATE TABLE allocation_moves (
    id              bigserial PRIMARY KEY,
    request_id      bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    from_release_id bigint NOT NULL REFERENCES releases (id),
    to_release_id   bigint NOT NULL REFERENCES releases (id),
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    moved_by        bigint NOT NULL REFERENCES users (id),
    moved_at        timestamptz NOT NULL
);
CREATE INDEX allocation_moves_moved_idx ON allocation_moves (moved_at);

-- One-time signed links in emails ("decide on ENH-…"): only the SHA-256 of the token is stored; using
-- it marks it used, and it still needs the named user to be signed in.
CREATE TABLE action_links (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    path       text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
