package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// notifyTimeout bounds every notification query: the outbox must ride out a database
// that hangs as ingest does, so nothing here waits without a deadline.
const notifyTimeout = 5 * time.Second

func withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, notifyTimeout)
}

// secretWrites is a session for statements that carry a channel's credentials: GORM
// logs a failed or slow statement with its values, and a webhook URL is a password.
func secretWrites(tx *gorm.DB) *gorm.DB { return tx.Session(&gorm.Session{Logger: logger.Discard}) }

// Channels lists notification channels by name (credentials loaded, never shown).
func (s *Store) Channels(ctx context.Context) ([]models.Channel, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var out []models.Channel
	if err := s.db.WithContext(ctx).Order("name").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return out, nil
}

// Channel is one notification channel.
func (s *Store) Channel(ctx context.Context, id int64) (models.Channel, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var c models.Channel
	if err := s.db.WithContext(ctx).First(&c, id).Error; err != nil {
		return c, notFound(err, "channel %d not found", id)
	}
	return c, nil
}

// CreateChannel stores a channel; the audit entry holds hints, never credentials.
func (s *Store) CreateChannel(ctx context.Context, actor string, in models.ChannelInput) (models.Channel, error) {
	if err := in.Validate(false); err != nil {
		return models.Channel{}, err
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	now := s.now()
	c := models.Channel{Name: in.Name, Type: models.ChannelType(in.Type), MinSeverity: models.Severity(in.MinSeverity),
		Services: strings.Join(in.Services, ","), Teams: strings.Join(in.Teams, ","), CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	setCredentials(&c, in)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := secretWrites(tx).Create(&c).Error; err != nil {
			if isUnique(err) {
				return models.FieldErrorf("name", "a channel named %q exists already", in.Name)
			}
			return fmt.Errorf("create channel: %w", err)
		}
		return s.audit(tx, actor, "create", "channel", c.ID, "channel: "+c.Name, nil, c)
	})
	return c, err
}

func setCredentials(c *models.Channel, in models.ChannelInput) {
	if in.URL != "" {
		c.URL, c.URLHint = in.URL, models.ChannelURLHint(c.Type, in.URL)
	}
	if in.Secret != nil {
		c.Secret, c.SecretHint = *in.Secret, models.SecretHint(*in.Secret)
	}
}

// UpdateChannel changes a channel; an empty url or an absent secret keeps the stored one.
func (s *Store) UpdateChannel(ctx context.Context, actor string, id int64, in models.ChannelInput) (models.Channel, error) {
	if err := in.Validate(true); err != nil {
		return models.Channel{}, err
	}
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var c models.Channel
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err, "channel %d not found", id)
		}
		before := c
		if c.Type != models.ChannelType(in.Type) && in.URL == "" {
			return models.FieldErrorf("url", "changing the type needs the URL again")
		}
		c.Name, c.Type, c.MinSeverity = in.Name, models.ChannelType(in.Type), models.Severity(in.MinSeverity)
		c.Services, c.Teams, c.UpdatedAt = strings.Join(in.Services, ","), strings.Join(in.Teams, ","), s.now()
		setCredentials(&c, in)
		if err := secretWrites(tx).Save(&c).Error; err != nil {
			if isUnique(err) {
				return models.FieldErrorf("name", "a channel named %q exists already", in.Name)
			}
			return fmt.Errorf("update channel %d: %w", id, err)
		}
		return s.audit(tx, actor, "update", "channel", c.ID, "channel: "+c.Name, before, c)
	})
	return c, err
}

// DeleteChannel removes a channel and its pending deliveries.
func (s *Store) DeleteChannel(ctx context.Context, actor string, id int64) error {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c models.Channel
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err, "channel %d not found", id)
		}
		if err := tx.Where("channel_id = ?", id).Delete(&models.AlertDelivery{}).Error; err != nil {
			return fmt.Errorf("delete deliveries of channel %d: %w", id, err)
		}
		if err := tx.Delete(&models.Channel{}, id).Error; err != nil {
			return fmt.Errorf("delete channel %d: %w", id, err)
		}
		return s.audit(tx, actor, "delete", "channel", id, "channel: "+c.Name, c, nil)
	})
}

// QueueTest puts a test event for one channel in the outbox: the sender delivers it
// like any other, so a test never sends on the request path.
func (s *Store) QueueTest(ctx context.Context, actor string, id int64) (models.AlertEvent, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var ev models.AlertEvent
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var c models.Channel
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err, "channel %d not found", id)
		}
		now := s.now()
		ev = models.TestEvent(c, now)
		if err := tx.Create(&ev).Error; err != nil {
			return fmt.Errorf("queue test event: %w", err)
		}
		d := models.AlertDelivery{EventID: ev.ID, ChannelID: c.ID, State: models.DeliveryPending, NextAt: now, CreatedAt: now}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("queue test delivery: %w", err)
		}
		return s.audit(tx, actor, "test", "channel", c.ID, "test message to channel: "+c.Name, nil, nil)
	})
	return ev, err
}

// ChannelDeliveries are a channel's latest deliveries, newest first.
func (s *Store) ChannelDeliveries(ctx context.Context, channelID int64, limit int) ([]models.ChannelDelivery, error) {
	ctx, cancel := withDeadline(ctx)
	defer cancel()
	var ds []models.AlertDelivery
	if err := s.db.WithContext(ctx).Where("channel_id = ?", channelID).Order("id DESC").Limit(limit).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("list deliveries of channel %d: %w", channelID, err)
	}
	events, err := s.eventsByID(ctx, deliveryEventIDs(ds))
	if err != nil {
		return nil, err
	}
	out := make([]models.ChannelDelivery, len(ds))
	for i, d := range ds {
		out[i] = models.ChannelDelivery{AlertDelivery: d, Event: events[d.EventID]}
	}
	return out, nil
}

func deliveryEventIDs(ds []models.AlertDelivery) []int64 {
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.EventID)
	}
	return ids
}

func (s *Store) eventsByID(ctx context.Context, ids []int64) (map[int64]models.AlertEvent, error) {
	out := map[int64]models.AlertEvent{}
	if len(ids) == 0 {
		return out, nil
	}
	var evs []models.AlertEvent
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	for _, e := range evs {
		out[e.ID] = e
	}
	return out, nil
}
