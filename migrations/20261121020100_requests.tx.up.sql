-- Requests of every kind share one table for what their lifecycles have in common (reference, status,
-- raising organisation, version for optimistic locking, acknowledgement clock) and one timeline,
-- comments, supports and followers; each kind keeps its own form's answers in its own table.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The next number of each reference series, e.g. ENH-2026-0042.
CREATE TABLE reference_counters (
    prefix text NOT NULL,
    year   smallint NOT NULL,
    last   integer NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE requests (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('enhancement', 'supplementary_role', 'national_competency')),
    reference        text NOT NULL UNIQUE,
    title            text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    status           text NOT NULL,
    organisation_id  bigint NOT NULL REFERENCES organisations (id),
    raised_by_id     bigint NOT NULL REFERENCES users (id),
    nsig_id          bigint REFERENCES nsigs (id),
    assignee_id      bigint REFERENCES users (id),
    received_at      timestamptz NOT NULL,
    ack_due_on       date NOT NULL,
    acknowledged_at  timestamptz,
    info_due_on      date,
    decided_at       timestamptz,
    accepted         boolean NOT NULL DEFAULT false, -- accepted by triage: every signed-in user may see its summary
    search           tsvector NOT NULL DEFAULT ''::tsvector,
    submission_token uuid NOT NULL UNIQUE,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX requests_kind_status_idx ON requests (kind, status);
CREATE INDEX requests_organisation_idx ON requests (organisation_id);
CREATE INDEX requests_nsig_idx ON requests (nsig_id);
CREATE INDEX requests_ack_due_idx ON requests (ack_due_on) WHERE acknowledged_at IS NULL;
CREATE INDEX requests_received_idx ON requests (received_at DESC, id DESC);
CREATE INDEX requests_search_idx ON requests USING gin (search);
CREATE INDEX requests_title_trgm_idx ON requests USING gin (title gin_trgm_ops);

CREATE TABLE enhancement_requests (
    request_id         bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    sr_number          text NOT NULL,
    functional_area    text NOT NULL REFERENCES functional_areas (name),
    problem            text NOT NULL,
    proposal           text NOT NULL,
    affected_users     text[] NOT NULL,
    affected_detail    text NOT NULL DEFAULT '',
    urgency            text NOT NULL CHECK (urgency IN ('critical', 'high', 'medium', 'low')),
    urgency_reason     text NOT NULL DEFAULT '',
    outcome_reason     text CHECK (outcome_reason IN ('existing_functionality', 'defect', 'conflicts_with_policy', 'duplicate', 'out_of_scope')),
    outcome_explanation text NOT NULL DEFAULT '',
    duplicate_of_id    bigint REFERENCES requests (id)
);
CREATE INDEX enhancement_requests_area_idx ON enhancement_requests (functional_area);

-- The timeline: everything that happened to a request, in plain English. Internal entries are for the
-- central and development teams and the request's NSIG only.
CREATE TABLE request_events (
    id            bigserial PRIMARY KEY,
    request_id    bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    occurred_at   timestamptz NOT NULL,
    actor_user_id bigint REFERENCES users (id),
    actor_name    text NOT NULL,
    kind          text NOT NULL,
    from_status   text NOT NULL DEFAULT '',
    to_status     text NOT NULL DEFAULT '',
    summary       text NOT NULL,
    detail        text NOT NULL DEFAULT '',
    internal      boolean NOT NULL DEFAULT false
);
CREATE INDEX request_events_request_idx ON request_events (request_id, occurred_at, id);

CREATE TABLE request_comments (
    id         bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    author_id  bigint NOT NULL REFERENCES users (id),
    body       text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 5000),
    internal   boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX request_comments_request_idx ON request_comments (request_id, created_at, id);

-- One support per organisation: the organisations (and so regions) that want the same change.
CREATE TABLE request_supports (
    request_id      bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    organisation_id bigint NOT NULL REFERENCES organisations (id),
    user_id         bigint NOT NULL REFERENCES users (id),
    note            text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (request_id, organisation_id)
);
CREATE INDEX request_supports_organisation_idx ON request_supports (organisation_id);

CREATE TABLE request_followers (
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, user_id)
);
CREATE INDEX request_followers_user_idx ON request_followers (user_id);
