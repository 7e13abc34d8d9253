CREATE TABLE roles (
    name        text PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL,
    elevated    boolean NOT NULL DEFAULT false,
    sort_order  smallint NOT NULL
);

INSERT INTO roles (name, title, description, elevated, sort_order) VALUES
    ('requester', 'Requester', 'Raises requests for their organisation and supports other organisations'' requests', false, 1),
    ('nsig_member', 'NSIG member', 'Reviews and comments on requests in their NSIG''s functional area', false, 2),
    ('functional_account_manager', 'Functional account manager', 'Supports organisations in their region and endorses business justifications', false, 3),
    ('central_team', 'Central team', 'Triages, decides, manages releases and publishes the Development Schedule', true, 4),
    ('development_team', 'Development team', 'Agrees requirement definitions and carries out impact assessments', true, 5),
    ('admin', 'Administrator', 'Manages users, organisations and roles', true, 6);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    email               text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    name                text NOT NULL CHECK (length(btrim(name)) > 0),
    organisation_id     bigint NOT NULL REFERENCES organisations (id),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash       text NOT NULL,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    must_change_password boolean NOT NULL DEFAULT false,
    last_sign_in_at     timestamptz,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- Email addresses are unique whatever their case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_organisation_id_idx ON users (organisation_id);

CREATE TABLE user_roles (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL REFERENCES roles (name),
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
