-- Single sign-on with OpenID Connect. A login in progress: the state sent to the identity provider
-- (kept as a hash), the nonce the ID token must carry and the PKCE verifier; used once, within minutes.
CREATE TABLE oidc_logins (
    state_hash bytea PRIMARY KEY,
    provider   text NOT NULL,
    nonce      text NOT NULL,
    verifier   text NOT NULL,
    next       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
CREATE INDEX oidc_logins_created_at_idx ON oidc_logins (created_at);

-- Who a provider says someone is (its issuer's subject), linked to a portal account.
CREATE TABLE user_identities (
    provider  text NOT NULL,
    subject   text NOT NULL,
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email     text NOT NULL,
    linked_at timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_user_id_idx ON user_identities (user_id);
