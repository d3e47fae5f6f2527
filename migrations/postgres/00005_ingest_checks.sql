-- +goose Up
-- Foreign keys checked per row cost more than the insert itself on a batch of
-- samples or points, so two are dropped:
-- * samples.feed_id: a sample is always written in the same statement as its
--   delivery, whose feed_id keeps its foreign key, so a sample for a deleted
--   feed fails with its delivery; DeleteFeed deletes a feed's samples itself.
-- * slo_points.slo_id: DeleteSLO deletes an SLO's points itself, and points
--   are only written while the feed's bindings are the version they were
--   derived from. A point from a delivery committing in the same instant as
--   the SLO's deletion is never read: SLO ids are not reused.
ALTER TABLE samples DROP CONSTRAINT IF EXISTS samples_feed_id_fkey;
ALTER TABLE slo_points DROP CONSTRAINT IF EXISTS slo_points_slo_id_fkey;

-- +goose Down
ALTER TABLE samples ADD CONSTRAINT samples_feed_id_fkey FOREIGN KEY (feed_id) REFERENCES feeds (id) ON DELETE CASCADE;
ALTER TABLE slo_points ADD CONSTRAINT slo_points_slo_id_fkey FOREIGN KEY (slo_id) REFERENCES slos (id) ON DELETE CASCADE;
