DROP TABLE meeting_actions;
DROP TABLE meeting_attendance;
DROP TABLE agenda_item_requests;
DROP TABLE agenda_items;
DROP TABLE nsig_meetings;
