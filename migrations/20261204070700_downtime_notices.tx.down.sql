DROP TABLE downtime_notices;
