package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
)

// ClaimDeliveries leases up to limit pending deliveries that are due at now, for lease:
// no other sender takes them until it expires. A sender that dies mid-send leaves the
// lease to expire, and the delivery is sent again, with the same event id. On PostgreSQL
// concurrent claims skip each other's rows (FOR UPDATE SKIP LOCKED).
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]models.Outbound, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	now = now.UTC()
	var out []models.Outbound
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A resolved message waits for its episode's firing message on the same channel:
		// that one may yet be dropped when checked again, and then nobody heard of the
		// alert (DropEvent drops the resolved one too).
		q := `SELECT d.id FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id
			WHERE d.state = ? AND d.next_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
			AND NOT EXISTS (SELECT 1 FROM alert_events f JOIN alert_deliveries fd ON fd.event_id = f.id
				WHERE f.uid = e.episode AND f.id <> e.id AND fd.channel_id = d.channel_id AND fd.state = ?)
			ORDER BY d.next_at, d.id LIMIT ?`
		if s.dialect == migrations.Postgres {
			q += " FOR UPDATE OF d SKIP LOCKED"
		}
		var ids []int64
		if err := tx.Raw(q, models.DeliveryPending, now, now, models.DeliveryPending, limit).Scan(&ids).Error; err != nil {
			return fmt.Errorf("find due deliveries: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := tx.Model(&models.AlertDelivery{}).Where("id IN ?", ids).Update("lease_until", now.Add(lease)).Error; err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		var ds []models.AlertDelivery
		if err := tx.Where("id IN ?", ids).Order("next_at, id").Find(&ds).Error; err != nil {
			return fmt.Errorf("read deliveries: %w", err)
		}
		events, err := s.eventsByID(ctx, deliveryEventIDs(ds))
		if err != nil {
			return err
		}
		chIDs := make([]int64, 0, len(ds))
		for _, d := range ds {
			chIDs = append(chIDs, d.ChannelID)
		}
		var chs []models.Channel
		if err := tx.Where("id IN ?", chIDs).Find(&chs).Error; err != nil {
			return fmt.Errorf("read channels: %w", err)
		}
		byID := map[int64]models.Channel{}
		for _, c := range chs {
			byID[c.ID] = c
		}
		for _, d := range ds {
			out = append(out, models.Outbound{Delivery: d, Event: events[d.EventID], Channel: byID[d.ChannelID]})
		}
		return nil
	})
	return out, err
}

// CompleteDeliveries records a pass's attempts in one transaction: each sent, or
// failed and due again after the retry delay (models.RetryDelay), or failed for good once
// 24 hours have passed since its event was decided or the failure is permanent. Each
// channel keeps when it last sent and its last error.
func (s *Store) CompleteDeliveries(ctx context.Context, attempts []models.Attempt, now time.Time) error {
	if len(attempts) == 0 {
		return nil
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	now = now.UTC()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var sent []int64
		lastErr := map[int64]string{}
		ok := map[int64]bool{}
		for _, a := range attempts {
			d := a.Delivery
			if a.Outcome.Sent {
				sent = append(sent, d.ID)
				ok[d.ChannelID] = true
				continue
			}
			n := d.Attempts + 1
			next := now.Add(models.RetryDelay(n))
			set := map[string]any{"attempts": n, "lease_until": nil, "last_error": a.Outcome.Err, "next_at": next}
			if a.Outcome.Permanent || next.After(a.Event.DecidedAt.Add(models.RetryGiveUp)) {
				set["state"] = models.DeliveryFailed
			}
			if err := tx.Model(&models.AlertDelivery{}).Where("id = ? AND state = ?", d.ID, models.DeliveryPending).Updates(set).Error; err != nil {
				return fmt.Errorf("record delivery %d: %w", d.ID, err)
			}
			lastErr[d.ChannelID] = a.Outcome.Err
		}
		if len(sent) > 0 {
			if err := tx.Model(&models.AlertDelivery{}).Where("id IN ? AND state = ?", sent, models.DeliveryPending).
				Updates(map[string]any{"state": models.DeliverySent, "sent_at": now, "last_error": "", "lease_until": nil,
					"attempts": gorm.Expr("attempts + 1")}).Error; err != nil {
				return fmt.Errorf("record sent deliveries: %w", err)
			}
		}
		for id := range ok {
			if err := tx.Model(&models.Channel{}).Where("id = ?", id).Update("last_sent_at", now).Error; err != nil {
				return fmt.Errorf("record channel %d: %w", id, err)
			}
		}
		for id, msg := range lastErr {
			if err := tx.Model(&models.Channel{}).Where("id = ?", id).Updates(map[string]any{"last_error": msg, "last_error_at": now}).Error; err != nil {
				return fmt.Errorf("record channel %d: %w", id, err)
			}
		}
		return nil
	})
}

// DropEvent gives up a firing event whose condition no longer holds when checked again
// just before sending: its pending deliveries are dropped. If no channel was sent it, the
// alert goes back to not firing, so no "resolved" follows for an alert nobody heard of.
func (s *Store) DropEvent(ctx context.Context, ev models.AlertEvent, reason string) error {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == migrations.Postgres {
			// After a replica deciding now, or before it: a resolution it decides from
			// the firing state this undoes is dropped below, or never decided.
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", alertLockKey).Error; err != nil {
				return fmt.Errorf("take the alert lock: %w", err)
			}
		}
		if err := tx.Model(&models.AlertDelivery{}).Where("event_id = ? AND state = ?", ev.ID, models.DeliveryPending).
			Updates(map[string]any{"state": models.DeliveryDropped, "last_error": reason, "lease_until": nil}).Error; err != nil {
			return fmt.Errorf("drop event %s: %w", ev.UID, err)
		}
		var sent int64
		if err := tx.Model(&models.AlertDelivery{}).Where("event_id = ? AND state = ?", ev.ID, models.DeliverySent).Count(&sent).Error; err != nil {
			return fmt.Errorf("count sent deliveries: %w", err)
		}
		if sent > 0 || ev.Status != models.AlertFiring {
			return nil
		}
		// Nobody heard it fire: its resolution, if decided meanwhile, is not sent either.
		if err := tx.Model(&models.AlertDelivery{}).
			Where("state = ? AND event_id IN (SELECT id FROM alert_events WHERE episode = ? AND id <> ?)", models.DeliveryPending, ev.UID, ev.ID).
			Updates(map[string]any{"state": models.DeliveryDropped, "last_error": "its firing message was dropped: " + reason, "lease_until": nil}).Error; err != nil {
			return fmt.Errorf("drop the resolution of %s: %w", ev.UID, err)
		}
		return tx.Model(&models.AlertState{}).Where("alert_key = ? AND episode = ? AND firing = ?", ev.AlertKey, ev.UID, true).
			Updates(map[string]any{"firing": false, "clear_since": nil, "updated_at": s.now()}).Error
	})
}
