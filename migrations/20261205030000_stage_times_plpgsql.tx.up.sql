-- Most timeline events change no status. The stage times were worked out again for every statement
-- that added events, as an SQL function planned afresh on every call; now the function does nothing
-- when no request's stages changed, and as PL/pgSQL keeps its plans for the session.
CREATE OR REPLACE FUNCTION refresh_request_stage_times(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN
        RETURN;
    END IF;
    DELETE FROM request_stage_times WHERE request_id = ANY (ids);
    INSERT INTO request_stage_times (request_id, stage, first_entered, closed_days, open_since_seq)
    SELECT s.request_id, s.stage, min(s.entered_at),
        COALESCE(sum(e.seq - b.seq) FILTER (WHERE s.left_at IS NOT NULL), 0),
        max(b.seq) FILTER (WHERE s.left_at IS NULL)
    FROM (
        SELECT ev.request_id, ev.to_status AS stage, ev.occurred_at AS entered_at,
            lead(ev.occurred_at) OVER (PARTITION BY ev.request_id ORDER BY ev.occurred_at, ev.id) AS left_at
        FROM request_events AS ev
        WHERE ev.request_id = ANY (ids) AND ev.to_status <> ''
    ) AS s
    JOIN calendar_days AS b ON b.day = (s.entered_at AT TIME ZONE 'Europe/London')::date
    LEFT JOIN calendar_days AS e ON e.day = (s.left_at AT TIME ZONE 'Europe/London')::date
    GROUP BY s.request_id, s.stage
    ON CONFLICT (request_id, stage) DO UPDATE SET first_entered = excluded.first_entered,
        closed_days = excluded.closed_days, open_since_seq = excluded.open_since_seq;
END
$$;
