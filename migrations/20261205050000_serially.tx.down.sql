DROP FUNCTION serially(bigint);
