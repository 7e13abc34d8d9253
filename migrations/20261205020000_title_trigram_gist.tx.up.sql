-- Similar requests are found among the titles nearest to the one being written, in order of trigram
-- distance (title <-> 'words'), which a GiST index serves and a GIN index cannot; the GiST index also
-- serves title % 'words'. The GIN index it replaces served only that.
CREATE INDEX requests_title_trgm_gist_idx ON requests USING gist (title gist_trgm_ops);
DROP INDEX requests_title_trgm_idx;
