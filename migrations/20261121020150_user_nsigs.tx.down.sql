DROP TABLE user_nsigs;
