-- serially(n) is n. A query that calls it is never run with parallel workers (the function is marked
-- PARALLEL UNSAFE, which PostgreSQL checks before it folds the call to its value): the requests list's
-- search reads the parts of a UNION ALL newest first and stops at its LIMIT, which holds only while the
-- parts run one after another; a Parallel Append runs them at once and returns their rows in any order.
CREATE FUNCTION serially(n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL UNSAFE AS $$ SELECT n $$;
