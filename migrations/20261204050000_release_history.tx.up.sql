-- What each release was at every moment: creating a release, changing its number, name, target date or
-- status, and its going live each add a row in the same transaction. A Development Schedule dated in the
-- past shows every release as it stood at the end of that day, never as it is now.
CREATE TABLE release_history (
    id          bigserial PRIMARY KEY,
    release_id  bigint NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    number      integer NOT NULL CHECK (number > 0),
    name        text NOT NULL,
    target_date date NOT NULL,
    status      text NOT NULL CHECK (status IN ('planned', 'in_progress', 'released')),
    valid_from  timestamptz NOT NULL
);
CREATE INDEX release_history_release_idx ON release_history (release_id, valid_from, id);

-- The history of releases that already exist, from what the audit trail recorded of them (each creation
-- and change kept the release as it was after it) and from their going live. A release that the audit
-- trail does not describe is known from its last change onwards only: before that its history is a gap,
-- which a schedule dated then says, rather than guessing.
INSERT INTO release_history (release_id, number, name, target_date, status, valid_from)
SELECT rl.id, (a.after ->> 'number')::integer, a.after ->> 'name', (a.after ->> 'target_date')::date, a.after ->> 'status', a.occurred_at
FROM audit_events AS a
JOIN releases AS rl ON a.entity_type = 'release' AND a.entity_id = rl.id::text
WHERE a.action IN ('release.created', 'release.updated')
    AND a.after ?& ARRAY['number', 'name', 'target_date', 'status']
    AND a.after ->> 'status' IN ('planned', 'in_progress', 'released');

INSERT INTO release_history (release_id, number, name, target_date, status, valid_from)
SELECT rl.id, coalesce(h.number, rl.number), coalesce(h.name, rl.name), coalesce(h.target_date, rl.target_date), 'released', rl.released_at
FROM releases AS rl
LEFT JOIN LATERAL (
    SELECT number, name, target_date FROM release_history AS h
    WHERE h.release_id = rl.id AND h.valid_from <= rl.released_at ORDER BY h.valid_from DESC, h.id DESC LIMIT 1
) AS h ON true
WHERE rl.released_at IS NOT NULL;

INSERT INTO release_history (release_id, number, name, target_date, status, valid_from)
SELECT rl.id, rl.number, rl.name, rl.target_date, rl.status, rl.updated_at
FROM releases AS rl
WHERE NOT EXISTS (SELECT 1 FROM release_history AS h WHERE h.release_id = rl.id AND h.valid_from >= rl.updated_at);
