DROP TABLE nsigs;
