package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// alertLockKey is the PostgreSQL advisory lock under which alerts are decided: one
// replica at a time, so two never decide (and send) the same transition.
const alertLockKey = 0x5173_6e6f_7469 // "Qsnoti"

// DecideAlerts runs the notification state machine (models.DecideAlerts) over the
// reports and writes, in one transaction, the states that change, the events decided
// and one delivery per event and channel that wants it. On PostgreSQL the transaction
// holds an advisory lock, taken without waiting: when another replica holds it, that
// replica is deciding and this one returns 0 events. The states are read under the lock,
// so whichever replica decides sees every transition the other made. While another
// replica holds the lock the answer is an ECONFLICT error: try again on the next pass.
//
// With all, the reports are every SLO's: every alert state is read, and those of SLOs
// not among the reports (deleted) are forgotten. Without, the reports are those of the
// SLOs whose numbers changed, and only their states are read (so none is forgotten): a
// new bucket costs a pass the states of the SLOs it moved, not of every SLO.
func (s *Store) DecideAlerts(ctx context.Context, reports []models.SLOReport, all bool) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*notifyTimeout)
	defer cancel()
	now := s.now()
	n := 0
	busy := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == migrations.Postgres {
			var got bool
			if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?)", alertLockKey).Scan(&got).Error; err != nil {
				return fmt.Errorf("take the alert lock: %w", err)
			}
			if !got {
				busy = true
				return nil
			}
		}
		var list []models.AlertState
		read := tx
		if !all {
			ids := make([]int64, len(reports))
			for i, r := range reports {
				ids[i] = r.ID
			}
			read = tx.Where("slo_id IN ?", ids)
		}
		if err := read.Find(&list).Error; err != nil {
			return fmt.Errorf("read alert states: %w", err)
		}
		states := map[int64]map[string]models.AlertState{}
		for _, st := range list {
			if states[st.SLOID] == nil {
				states[st.SLOID] = map[string]models.AlertState{}
			}
			states[st.SLOID][st.AlertKey] = st
		}
		serviceOf := make(map[int64]int64, len(reports))
		present := make(map[int64]bool, len(reports))
		for _, r := range reports {
			serviceOf[r.ID], present[r.ID] = r.ServiceID, true
		}
		silenced, err := silencedNow(tx, serviceOf, now)
		if err != nil {
			return err
		}
		var channels []models.Channel
		if err := tx.Find(&channels).Error; err != nil {
			return fmt.Errorf("read channels: %w", err)
		}
		var changed []models.AlertState
		var events []models.AlertEvent
		var services []models.Service // events[i]'s service, for the channels' filters
		for _, r := range reports {
			moved, evs := models.DecideAlerts(r, states[r.ID], silenced[r.ID], now)
			for _, st := range moved {
				st.StartedAt = st.StartedAt.UTC()
				changed = append(changed, st)
			}
			for _, ev := range evs {
				ev.StartedAt, ev.DataTime = ev.StartedAt.UTC(), ev.DataTime.UTC()
				events = append(events, ev)
				services = append(services, r.Service)
			}
		}
		if err := queueEvents(tx, events, services, channels, now); err != nil {
			return err
		}
		n = len(events)
		// One statement for the states that moved: while history arrives they move for
		// many SLOs at each pass.
		if len(changed) > 0 {
			if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).CreateInBatches(&changed, 200).Error; err != nil {
				return fmt.Errorf("write %d alert states: %w", len(changed), err)
			}
		}
		// The alerts of deleted SLOs go with them.
		for id := range states {
			if !present[id] {
				if err := tx.Where("slo_id = ?", id).Delete(&models.AlertState{}).Error; err != nil {
					return fmt.Errorf("forget alerts of SLO %d: %w", id, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if busy {
		return 0, models.Errorf(models.ECONFLICT, "another replica is deciding alerts")
	}
	return n, nil
}

// queueEvents writes the events decided in one pass and a pending delivery for each
// channel that wants one, a statement per 200 rows (while history arrives a pass decides
// many). GORM fills the events' ids from the insert, which the deliveries point to.
func queueEvents(tx *gorm.DB, events []models.AlertEvent, services []models.Service, channels []models.Channel, now time.Time) error {
	if len(events) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(&events, 200).Error; err != nil {
		return fmt.Errorf("write %d alert events: %w", len(events), err)
	}
	var deliveries []models.AlertDelivery
	for i, ev := range events {
		for _, c := range channels {
			if c.Wants(ev.Severity, services[i].Name, services[i].Team) {
				deliveries = append(deliveries, models.AlertDelivery{EventID: ev.ID, ChannelID: c.ID,
					State: models.DeliveryPending, NextAt: now, CreatedAt: now})
			}
		}
	}
	if len(deliveries) > 0 {
		if err := tx.CreateInBatches(&deliveries, 200).Error; err != nil {
			return fmt.Errorf("queue %d deliveries: %w", len(deliveries), err)
		}
	}
	return nil
}

// FiringAlerts lists the alerts firing now, oldest first.
func (s *Store) FiringAlerts(ctx context.Context) ([]models.FiringAlert, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var list []models.AlertState
	if err := s.db.WithContext(ctx).Where("firing = ?", true).Order("started_at").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("read firing alerts: %w", err)
	}
	uids := make([]string, len(list))
	for i, st := range list {
		uids[i] = st.Episode
	}
	var evs []models.AlertEvent
	if len(uids) > 0 {
		if err := s.db.WithContext(ctx).Where("uid IN ?", uids).Find(&evs).Error; err != nil {
			return nil, fmt.Errorf("read firing events: %w", err)
		}
	}
	byUID := map[string]models.AlertEvent{}
	for _, e := range evs {
		byUID[e.UID] = e
	}
	out := make([]models.FiringAlert, len(list))
	for i, st := range list {
		out[i] = models.FiringAlert{State: st, Event: byUID[st.Episode]}
	}
	return out, nil
}

// AlertHistory lists events newest first, before an event id (0: from the newest).
func (s *Store) AlertHistory(ctx context.Context, beforeID int64, limit int) ([]models.EventSummary, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	db := s.db.WithContext(ctx).Where("kind <> ?", models.KindTest)
	if beforeID > 0 {
		db = db.Where("id < ?", beforeID)
	}
	var evs []models.AlertEvent
	if err := db.Order("id DESC").Limit(limit).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("read alert history: %w", err)
	}
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	var counts []struct {
		EventID int64
		State   string
		N       int
	}
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Model(&models.AlertDelivery{}).Select("event_id, state, count(*) AS n").
			Where("event_id IN ?", ids).Group("event_id, state").Scan(&counts).Error; err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
	}
	byID := map[int64]*models.EventSummary{}
	out := make([]models.EventSummary, len(evs))
	for i, e := range evs {
		out[i] = models.EventSummary{AlertEvent: e}
		byID[e.ID] = &out[i]
	}
	for _, c := range counts {
		es := byID[c.EventID]
		switch c.State {
		case models.DeliveryPending:
			es.Pending = c.N
		case models.DeliverySent:
			es.Sent = c.N
		case models.DeliveryFailed:
			es.Failed = c.N
		case models.DeliveryDropped:
			es.Dropped = c.N
		}
	}
	return out, nil
}
