-- What a fold's upsert of hour roll-ups costs per row, against a plain insert, two statements
-- (UPDATE then INSERT) and a table with fillfactor 80. Folds like make bench-scale's: 1,000
-- SLOs, each fold 9 hours of each (one hour shared with the fold before), 30 folds to warm up,
-- then ten timed twice per method, a checkpoint before each ten:
--   ./.ci/with-services sh -c 'psql -q "$SITEMETRICS_TEST_DATABASE_URL" -f docs/benchmarks/rollup-upsert.sql'
-- Three runs on 2026-12-06, nothing else running; five timings kept of ten folds of 9,000 rows per
-- method (the last run's: 664 and 922, 2,169 and 2,356, 869 and 720, 813 and 639 ms):
--   upsert 583–991 ms; two statements 2,027–2,533 ms; plain insert 488–869 ms;
--   upsert with fillfactor 80 508–813 ms, every update of a row a HOT one.
-- So an upserted row costs about what inserting it costs: a fold's cost is the rows it writes.
SET client_min_messages = warning;
DROP TABLE IF EXISTS h1, h2, h3, h4;
CREATE TABLE h1 (slo_id BIGINT NOT NULL, generation INTEGER NOT NULL, hour BIGINT NOT NULL,
  bad DOUBLE PRECISION NOT NULL DEFAULT 0, total DOUBLE PRECISION NOT NULL DEFAULT 0, excluded INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (slo_id, generation, hour));
CREATE TABLE h2 (LIKE h1 INCLUDING ALL);
CREATE TABLE h3 (LIKE h1 INCLUDING ALL);
CREATE TABLE h4 (LIKE h1 INCLUDING ALL) WITH (fillfactor = 80);
CREATE OR REPLACE FUNCTION fold_arrays(k int, OUT s bigint[], OUT g int[], OUT h bigint[], OUT b float8[], OUT t float8[], OUT e int[]) AS $$
  SELECT array_agg(slo ORDER BY slo, hr), array_agg(1 ORDER BY slo, hr), array_agg(hr*3600 ORDER BY slo, hr),
         array_agg(1.0::float8 ORDER BY slo, hr), array_agg(100.0::float8 ORDER BY slo, hr), array_agg(0 ORDER BY slo, hr)
  FROM generate_series(1,1000) slo, generate_series(k*8, k*8+8) hr
$$ LANGUAGE sql;
CREATE TEMP TABLE arr AS SELECT k, (fold_arrays(k)).* FROM generate_series(0, 59) k;
CREATE OR REPLACE PROCEDURE upsert(tbl text, lo int, hi int) AS $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM arr WHERE k >= lo AND k < hi ORDER BY k LOOP
  EXECUTE format('INSERT INTO %1$I SELECT * FROM unnest($1, $2, $3, $4, $5, $6)
    ON CONFLICT (slo_id, generation, hour) DO UPDATE SET bad = %1$I.bad + EXCLUDED.bad, total = %1$I.total + EXCLUDED.total, excluded = %1$I.excluded + EXCLUDED.excluded', tbl)
    USING r.s, r.g, r.h, r.b, r.t, r.e;
END LOOP; END $$ LANGUAGE plpgsql;
-- insert only what is new; update the rest (two statements)
CREATE OR REPLACE PROCEDURE twostep(tbl text, lo int, hi int) AS $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM arr WHERE k >= lo AND k < hi ORDER BY k LOOP
  EXECUTE format('WITH v AS (SELECT * FROM unnest($1, $2, $3, $4, $5, $6) AS v (slo_id, generation, hour, bad, total, excluded)),
     u AS (UPDATE %1$I h SET bad = h.bad + v.bad, total = h.total + v.total, excluded = h.excluded + v.excluded FROM v
       WHERE h.slo_id = v.slo_id AND h.generation = v.generation AND h.hour = v.hour RETURNING h.slo_id, h.generation, h.hour)
     INSERT INTO %1$I SELECT v.* FROM v LEFT JOIN u USING (slo_id, generation, hour) WHERE u.slo_id IS NULL', tbl)
    USING r.s, r.g, r.h, r.b, r.t, r.e;
END LOOP; END $$ LANGUAGE plpgsql;
CREATE OR REPLACE PROCEDURE plain(tbl text, lo int, hi int) AS $$ DECLARE r record; BEGIN FOR r IN SELECT * FROM arr WHERE k >= lo AND k < hi ORDER BY k LOOP
  EXECUTE format('INSERT INTO %1$I SELECT * FROM unnest($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', tbl)
    USING r.s, r.g, r.h, r.b, r.t, r.e;
END LOOP; END $$ LANGUAGE plpgsql;
CALL upsert('h1', 0, 30); CALL twostep('h2', 0, 30); CALL plain('h3', 0, 30); CALL upsert('h4', 0, 30);
CHECKPOINT;
\timing on
\echo upsert, twostep, plain(do nothing), upsert ff80: 10 folds of 9000 rows each, twice
CALL upsert('h1', 30, 40); CALL twostep('h2', 30, 40); CALL plain('h3', 30, 40); CALL upsert('h4', 30, 40);
CHECKPOINT;
CALL upsert('h1', 40, 50); CALL twostep('h2', 40, 50); CALL plain('h3', 40, 50); CALL upsert('h4', 40, 50);
\timing off
SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, pg_size_pretty(pg_relation_size(relid)), pg_size_pretty(pg_indexes_size(relid)) FROM pg_stat_user_tables WHERE relname IN ('h1','h2','h3','h4') ORDER BY 1;
SELECT count(*), sum(total) FROM h1; SELECT count(*), sum(total) FROM h2;
DROP TABLE h1, h2, h3, h4;
DROP PROCEDURE upsert, twostep, plain;
DROP FUNCTION fold_arrays;
