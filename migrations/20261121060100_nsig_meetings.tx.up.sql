-- NSIG meetings (on Microsoft Teams): agenda items requested by members and the central team, accepted
-- by the chair or the central team, with the requests they concern; the agenda is published to the seat
-- holders; afterwards, who attended for each region, minutes and an outcome per item, and actions.
CREATE TABLE nsig_meetings (
    id                  bigserial PRIMARY KEY,
    nsig_id             bigint NOT NULL REFERENCES nsigs (id),
    starts_at           timestamptz NOT NULL,
    duration_minutes    integer NOT NULL CHECK (duration_minutes BETWEEN 15 AND 480),
    teams_link          text NOT NULL CHECK (teams_link ~ '^https://'),
    purpose             text NOT NULL CHECK (purpose IN ('member_items', 'central_update')),
    agenda_published_at timestamptz,
    agenda_sequence     integer NOT NULL DEFAULT 0,
    created_by          bigint NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL
);
CREATE INDEX nsig_meetings_nsig_idx ON nsig_meetings (nsig_id, starts_at);

CREATE TABLE agenda_items (
    id           bigserial PRIMARY KEY,
    meeting_id   bigint NOT NULL REFERENCES nsig_meetings (id) ON DELETE CASCADE,
    title        text NOT NULL CHECK (length(btrim(title)) > 0),
    description  text NOT NULL DEFAULT '',
    requested_by bigint NOT NULL REFERENCES users (id),
    requested_at timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'accepted', 'declined')),
    decided_by   bigint REFERENCES users (id),
    decided_at   timestamptz,
    minutes      text NOT NULL DEFAULT '',
    outcome      text NOT NULL DEFAULT ''
);
CREATE INDEX agenda_items_meeting_idx ON agenda_items (meeting_id, id);

CREATE TABLE agenda_item_requests (
    item_id    bigint NOT NULL REFERENCES agenda_items (id) ON DELETE CASCADE,
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, request_id)
);
CREATE INDEX agenda_item_requests_request_idx ON agenda_item_requests (request_id);

-- Who attended for each region: the seat's member, or its deputy standing in.
CREATE TABLE meeting_attendance (
    meeting_id bigint NOT NULL REFERENCES nsig_meetings (id) ON DELETE CASCADE,
    region_id  smallint NOT NULL REFERENCES regions (id),
    user_id    bigint NOT NULL REFERENCES users (id),
    position   text NOT NULL CHECK (position IN ('member', 'deputy')),
    PRIMARY KEY (meeting_id, region_id)
);

CREATE TABLE meeting_actions (
    id          bigserial PRIMARY KEY,
    meeting_id  bigint NOT NULL REFERENCES nsig_meetings (id) ON DELETE CASCADE,
    description text NOT NULL CHECK (length(btrim(description)) > 0),
    owner_id    bigint NOT NULL REFERENCES users (id),
    due_on      date NOT NULL,
    done_at     timestamptz,
    done_by     bigint REFERENCES users (id),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX meeting_actions_meeting_idx ON meeting_actions (meeting_id);
CREATE INDEX meeting_actions_open_idx ON meeting_actions (owner_id) WHERE done_at IS NULL;
