CREATE INDEX requests_title_trgm_idx ON requests USING gin (title gin_trgm_ops);
DROP INDEX requests_title_trgm_gist_idx;
