DROP TABLE organisations;
DROP TABLE regions;
