-- Working days and time in stage, in SQL, for the dashboards and the requests list's drill-down filters.
--
-- calendar_days is the working-day calendar of app/workday as data: every day of the years it knows
-- (2020 to 2030), whether it is a working day (Monday to Friday and not an England and Wales bank
-- holiday, substitute days included), and seq, the number of working days from 1 January 2020 up to and
-- including it. The working days after one date up to and including another are then seq(b) - seq(a),
-- as workday.Calendar.WorkingDaysBetween counts them; a test checks the two agree on every day. A date
-- outside the calendar has no row, so a count that needs it is NULL rather than a guess. When the Go
-- calendar learns a new year, a new migration adds its days.
CREATE TABLE calendar_days (
    day     date PRIMARY KEY,
    working boolean NOT NULL,
    seq     integer NOT NULL
);

INSERT INTO calendar_days (day, working, seq)
SELECT d.day, d.working, (count(*) FILTER (WHERE d.working) OVER (ORDER BY d.day))::integer
FROM (
    SELECT g::date AS day,
        extract(isodow FROM g) < 6 AND g::date NOT IN (SELECT h::date FROM (VALUES
        ('2020-01-01'), ('2020-04-10'), ('2020-04-13'), ('2020-05-08'), ('2020-05-25'), ('2020-08-31'), ('2020-12-25'), ('2020-12-28'),
        ('2021-01-01'), ('2021-04-02'), ('2021-04-05'), ('2021-05-03'), ('2021-05-31'), ('2021-08-30'), ('2021-12-27'), ('2021-12-28'),
        ('2022-01-03'), ('2022-04-15'), ('2022-04-18'), ('2022-05-02'), ('2022-06-02'), ('2022-06-03'), ('2022-08-29'), ('2022-09-19'), ('2022-12-26'), ('2022-12-27'),
        ('2023-01-02'), ('2023-04-07'), ('2023-04-10'), ('2023-05-01'), ('2023-05-08'), ('2023-05-29'), ('2023-08-28'), ('2023-12-25'), ('2023-12-26'),
        ('2024-01-01'), ('2024-03-29'), ('2024-04-01'), ('2024-05-06'), ('2024-05-27'), ('2024-08-26'), ('2024-12-25'), ('2024-12-26'),
        ('2025-01-01'), ('2025-04-18'), ('2025-04-21'), ('2025-05-05'), ('2025-05-26'), ('2025-08-25'), ('2025-12-25'), ('2025-12-26'),
        ('2026-01-01'), ('2026-04-03'), ('2026-04-06'), ('2026-05-04'), ('2026-05-25'), ('2026-08-31'), ('2026-12-25'), ('2026-12-28'),
        ('2027-01-01'), ('2027-03-26'), ('2027-03-29'), ('2027-05-03'), ('2027-05-31'), ('2027-08-30'), ('2027-12-27'), ('2027-12-28'),
        ('2028-01-03'), ('2028-04-14'), ('2028-04-17'), ('2028-05-01'), ('2028-05-29'), ('2028-08-28'), ('2028-12-25'), ('2028-12-26'),
        ('2029-01-01'), ('2029-03-30'), ('2029-04-02'), ('2029-05-07'), ('2029-05-28'), ('2029-08-27'), ('2029-12-25'), ('2029-12-26'),
        ('2030-01-01'), ('2030-04-19'), ('2030-04-22'), ('2030-05-06'), ('2030-05-27'), ('2030-08-26'), ('2030-12-25'), ('2030-12-26')
        ) AS holidays (h)) AS working
    FROM generate_series('2020-01-01'::date, '2030-12-31'::date, interval '1 day') AS g
) AS d;

-- The working days after a up to and including b (negative when b is before a); NULL outside the calendar.
CREATE FUNCTION working_days_between(a date, b date) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (SELECT seq FROM calendar_days WHERE day = b) - (SELECT seq FROM calendar_days WHERE day = a)
$$;

-- Time in stage, the one definition (app/request/drill.go explains it to people): a request enters a
-- stage at the timeline event that moves it there (raising puts it in "submitted") and leaves it at the
-- next event that moves it anywhere. Each spell lasts the working days from the day it entered (day 0)
-- to the day it left, or to today (a London date) while it is still there; a request in a stage more
-- than once (back in triage after an answer, back in impact assessment after a deferral) has its spells
-- added together.
--
-- request_stage_times holds it for every request and stage it has been in, worked out from the timeline
-- by refresh_request_stage_times whenever a request's timeline changes (the triggers below), so that
-- reading it costs no more than an index: the working days of the spells that have ended, and, while the
-- request is in the stage, the calendar_days.seq of the day its current spell began. Its time in the
-- stage on a day is closed_days + (seq of that day - open_since_seq).
CREATE TABLE request_stage_times (
    request_id     bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    stage          text NOT NULL,
    first_entered  timestamptz NOT NULL,
    closed_days    integer NOT NULL,
    open_since_seq integer,
    PRIMARY KEY (request_id, stage)
);
CREATE INDEX request_stage_times_entered_idx ON request_stage_times (stage, first_entered);

CREATE FUNCTION refresh_request_stage_times(ids bigint[]) RETURNS void LANGUAGE sql AS $$
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
$$;

-- The requests whose timelines a statement changed are worked out again, once per statement.
CREATE FUNCTION request_events_stage_times() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM refresh_request_stage_times(ARRAY(SELECT DISTINCT request_id FROM new_rows WHERE to_status <> ''));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM refresh_request_stage_times(ARRAY(
            SELECT n.request_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE n.to_status <> o.to_status OR n.occurred_at <> o.occurred_at OR n.request_id <> o.request_id
            UNION SELECT o.request_id FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            WHERE n.to_status <> o.to_status OR n.occurred_at <> o.occurred_at OR n.request_id <> o.request_id));
    ELSE
        PERFORM refresh_request_stage_times(ARRAY(SELECT DISTINCT request_id FROM old_rows WHERE to_status <> ''));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER request_events_stage_times_insert AFTER INSERT ON request_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION request_events_stage_times();
CREATE TRIGGER request_events_stage_times_update AFTER UPDATE ON request_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION request_events_stage_times();
CREATE TRIGGER request_events_stage_times_delete AFTER DELETE ON request_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION request_events_stage_times();

SELECT refresh_request_stage_times(ARRAY(SELECT DISTINCT request_id FROM request_events WHERE to_status <> ''));

-- The dashboards count requests by stage, region, organisation, NSIG, functional area and acknowledgement
-- clock, over what each viewer may see: these indexes hold every column those counts read, so that they
-- are index-only scans rather than reads of the wide requests rows (which carry their search documents).
CREATE INDEX requests_dashboard_idx ON requests (kind, status)
    INCLUDE (id, organisation_id, nsig_id, accepted, received_at, acknowledged_at, ack_due_on, decided_at);
CREATE INDEX enhancement_requests_dashboard_idx ON enhancement_requests (request_id) INCLUDE (functional_area, outcome_reason);
-- Decisions by when they were made, for the decisions per quarter.
CREATE INDEX request_decisions_decided_idx ON request_decisions (decided_at, outcome);
-- Requests not taken forward by when, for the triage outcomes per quarter.
CREATE INDEX requests_not_taken_forward_idx ON requests (decided_at) WHERE status = 'not_taken_forward';

-- Alerts sent about a request (an acknowledgement due tomorrow or overdue, an answer due soon or
-- overdue, an assessment waiting, a review date coming): one row per alert, written in the transaction
-- that queues it, so each alert goes out once however many portal instances look and however often.
CREATE TABLE request_alerts (
    kind       text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    due_on     date NOT NULL, -- the date the alert is about: a due date, a review date, the day waiting began
    sent_at    timestamptz NOT NULL,
    PRIMARY KEY (kind, request_id, due_on)
);
