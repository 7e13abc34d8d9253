-- The requirement definition, written by the requester and the development team together. Every saved
-- version is kept; agreement is recorded against a version, so an edit after agreement clears it.
CREATE TABLE requirement_versions (
    id         bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    version    integer NOT NULL,
    body       text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 20000),
    author_id  bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    UNIQUE (request_id, version)
);

CREATE TABLE requirement_agreements (
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    side       text NOT NULL CHECK (side IN ('requester', 'development')),
    version    integer NOT NULL,
    user_id    bigint NOT NULL REFERENCES users (id),
    agreed_at  timestamptz NOT NULL,
    PRIMARY KEY (request_id, side)
);

-- The business justification (benefits case): the answers of each section as JSON, the form's own
-- version for optimistic locking, and when it was submitted as complete.
CREATE TABLE business_justifications (
    request_id   bigint PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    answers      jsonb NOT NULL DEFAULT '{}',
    version      integer NOT NULL DEFAULT 1,
    submitted_at timestamptz,
    updated_by   bigint REFERENCES users (id),
    updated_at   timestamptz NOT NULL
);

-- Endorsements by the region's functional account manager or a regional SIG.
CREATE TABLE justification_endorsements (
    id          bigserial PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id),
    endorser    text NOT NULL CHECK (endorser IN ('functional_account_manager', 'regional_sig')),
    sig_name    text NOT NULL DEFAULT '',
    comment     text NOT NULL CHECK (length(comment) <= 2000),
    created_at  timestamptz NOT NULL
);
CREATE INDEX justification_endorsements_request_idx ON justification_endorsements (request_id);

-- Supporting documents, stored in PostgreSQL. The content type is what the bytes are, not what the
-- file was called.
CREATE TABLE attachments (
    id           bigserial PRIMARY KEY,
    request_id   bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    sha256       bytea NOT NULL,
    content      bytea NOT NULL,
    uploaded_by  bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL
);
CREATE INDEX attachments_request_idx ON attachments (request_id);
