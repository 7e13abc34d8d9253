DROP TABLE release_history;
