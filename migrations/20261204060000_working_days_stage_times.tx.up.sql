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

-- Time in stage, the one definition (app/request/stages.go explains it to people): a request enters a
-- stage at the timeline event that moves it there (raising puts it in "submitted") and leaves it at the
-- next event that moves it anywhere. Each spell lasts the working days from the day it entered (day 0)
-- to the day it left, or to today (a London date) while it is still there; a request in a stage more
-- than once (back in triage after an answer, back in impact assessment after a deferral) has its spells
-- added together. One row per stage the request has been in, with when it first entered it.
CREATE FUNCTION request_stage_times(req bigint, today date)
RETURNS TABLE (stage text, first_entered timestamptz, working_days integer)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT s.stage, min(s.entered_at), sum(e.seq - b.seq)::integer
    FROM (
        SELECT ev.to_status AS stage, ev.occurred_at AS entered_at,
            lead(ev.occurred_at) OVER (ORDER BY ev.occurred_at, ev.id) AS left_at
        FROM request_events AS ev
        WHERE ev.request_id = req AND ev.to_status <> ''
    ) AS s
    JOIN calendar_days AS b ON b.day = (s.entered_at AT TIME ZONE 'Europe/London')::date
    JOIN calendar_days AS e ON e.day = COALESCE((s.left_at AT TIME ZONE 'Europe/London')::date, today)
    GROUP BY s.stage
$$;

-- The moves between stages by when they happened: a period's requests that entered a stage.
CREATE INDEX request_events_moves_idx ON request_events (occurred_at, to_status) WHERE to_status <> '';
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
