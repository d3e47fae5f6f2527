-- pglz against lz4 for delivery bodies like make bench-scale's (1,000 rows, about 71 KB):
--   ./.ci/with-services sh -c 'psql -q "$SITEMETRICS_TEST_DATABASE_URL" -f docs/benchmarks/toast-compression.sql'
-- Each insert compresses 300 bodies afresh (they are kept uncompressed in src); the
-- figures are the time of each of three inserts per method, then the bytes stored.
\timing on
CREATE TEMP TABLE src (id int, body bytea);
ALTER TABLE src ALTER body SET STORAGE EXTERNAL;
INSERT INTO src SELECT g, convert_to('{"results":[' || (SELECT string_agg(format(
    '{"service":"s%s","_time":"%s","total":"%s","good":"%s"}', lpad(i::text, 5, '0'), 1764900000 + g * 300,
    1000 + (i * 7 + g) % 500, 990 + (i * 7 + g) % 500 - (i + g) % 3), ',') FROM generate_series(0, 999) i) || ']}', 'UTF8')
  FROM generate_series(1, 300) g;
CREATE TEMP TABLE b_pglz (id int, body bytea COMPRESSION pglz);
CREATE TEMP TABLE b_lz4 (id int, body bytea COMPRESSION lz4);
\echo pglz, lz4, pglz, lz4, pglz, lz4:
INSERT INTO b_pglz SELECT * FROM src;
INSERT INTO b_lz4 SELECT * FROM src;
INSERT INTO b_pglz SELECT * FROM src;
INSERT INTO b_lz4 SELECT * FROM src;
INSERT INTO b_pglz SELECT * FROM src;
INSERT INTO b_lz4 SELECT * FROM src;
\timing off
SELECT round(avg(length(s.body))) AS body_bytes, round(avg(pg_column_size(p.body))) AS pglz_bytes, round(avg(pg_column_size(l.body))) AS lz4_bytes
  FROM src s JOIN b_pglz p USING (id) JOIN b_lz4 l USING (id);
