DROP TABLE request_followers;
DROP TABLE request_supports;
DROP TABLE request_comments;
DROP TABLE request_events;
DROP TABLE enhancement_requests;
DROP TABLE requests;
DROP TABLE reference_counters;
