DELETE FROM meeting_attendance AS ma USING nsig_meetings AS mt WHERE mt.id = ma.meeting_id AND ma.nsig_id <> mt.nsig_id;
ALTER TABLE meeting_attendance DROP CONSTRAINT meeting_attendance_pkey;
ALTER TABLE meeting_attendance ADD PRIMARY KEY (meeting_id, region_id);
ALTER TABLE meeting_attendance DROP COLUMN nsig_id;
DROP TABLE meeting_nsigs;
