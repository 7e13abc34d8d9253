-- Drafts keep what a requester has typed between the question pages of a request form, so that nothing
-- is lost before they check their answers and raise it. A draft belongs to one user and nobody else can
-- open it; its id is also the raised request's submission token, so raising it twice raises one request.
CREATE TABLE request_drafts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('enhancement', 'supplementary_role', 'national_competency')),
    data       jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX request_drafts_user_idx ON request_drafts (user_id, updated_at DESC);
