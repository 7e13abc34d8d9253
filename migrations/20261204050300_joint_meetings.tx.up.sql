-- Joint sessions: a meeting can be held by several NSIGs. meeting_nsigs lists every NSIG holding it (the
-- one that scheduled it, nsig_meetings.nsig_id, among them): their members ask for agenda items, the
-- agenda goes to all their seat holders, and the minutes and actions are theirs to read. Attendance is
-- recorded per NSIG and region.
CREATE TABLE meeting_nsigs (
    meeting_id bigint NOT NULL REFERENCES nsig_meetings (id) ON DELETE CASCADE,
    nsig_id    bigint NOT NULL REFERENCES nsigs (id),
    PRIMARY KEY (meeting_id, nsig_id)
);
CREATE INDEX meeting_nsigs_nsig_idx ON meeting_nsigs (nsig_id, meeting_id);
INSERT INTO meeting_nsigs (meeting_id, nsig_id) SELECT id, nsig_id FROM nsig_meetings;

ALTER TABLE meeting_attendance ADD COLUMN nsig_id bigint REFERENCES nsigs (id);
UPDATE meeting_attendance AS ma SET nsig_id = mt.nsig_id FROM nsig_meetings AS mt WHERE mt.id = ma.meeting_id;
ALTER TABLE meeting_attendance ALTER COLUMN nsig_id SET NOT NULL;
ALTER TABLE meeting_attendance DROP CONSTRAINT meeting_attendance_pkey;
ALTER TABLE meeting_attendance ADD PRIMARY KEY (meeting_id, nsig_id, region_id);
