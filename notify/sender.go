package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sitemetrics/sitemetrics/models"
)

// Send claims the deliveries due now and sends them, a few receivers at a time. A
// firing event is first evaluated again from the database (never from a cache); one
// that no longer holds, or whose SLO is now silenced, is dropped instead of sent. It
// returns how many deliveries it claimed. A database failure stops the pass: what was
// claimed and not recorded is sent again when its lease runs out, with the same id.
func (n *Notifier) Send(ctx context.Context) (int, error) {
	now := n.opt.Now()
	claimed, err := n.store.ClaimDeliveries(ctx, now, batch, Lease)
	if err != nil {
		return 0, err
	}
	if len(claimed) == 0 {
		return 0, nil
	}
	n.recovered()
	todo, err := n.recheck(ctx, claimed)
	if err != nil {
		return len(claimed), err
	}
	next := make(chan models.Outbound)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []models.Attempt
	for range min(workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ob := range next {
				o := n.deliver(ctx, ob)
				if ctx.Err() != nil {
					continue // shutting down: the lease brings it back, with the same id
				}
				if n.opt.Sent != nil {
					n.opt.Sent(ob, o)
				}
				if !o.Sent {
					n.log.Warn("notification not delivered", "channel", ob.Channel.Name, "type", ob.Channel.Type,
						"event", ob.Event.UID, "attempt", ob.Delivery.Attempts+1, "err", o.Err, "permanent", o.Permanent)
				}
				mu.Lock()
				done = append(done, models.Attempt{Outbound: ob, Outcome: o})
				mu.Unlock()
			}
		}()
	}
	for _, ob := range todo {
		next <- ob
	}
	close(next)
	wg.Wait()
	// One transaction for the pass, written even when stopping (what was sent stays
	// sent); a sender killed before it commits sends these again after their lease, with
	// the same ids.
	return len(claimed), n.store.CompleteDeliveries(context.WithoutCancel(ctx), done, n.opt.Now())
}

// recheck drops the firing events that no longer hold and returns the deliveries to send.
func (n *Notifier) recheck(ctx context.Context, claimed []models.Outbound) ([]models.Outbound, error) {
	verdict := map[int64]string{} // event id → why it was dropped ("" = send)
	checked := map[int64]bool{}
	reports := map[int64]models.SLOReport{}
	var todo []models.Outbound
	for _, ob := range claimed {
		ev := ob.Event
		if ev.Status == models.AlertFiring && ev.Kind != models.KindTest && !checked[ev.ID] {
			checked[ev.ID] = true
			r, ok := reports[ev.SLOID]
			if !ok {
				var err error
				ectx, cancel := context.WithTimeout(ctx, recheckTimeout)
				r, err = n.store.EvaluateNow(ectx, ev.SLOID)
				cancel()
				switch {
				case models.ErrorCode(err) == models.ENOTFOUND:
					verdict[ev.ID] = "the SLO was deleted before the message went out"
				case err != nil:
					return nil, fmt.Errorf("check event %s again: %w", ev.UID, err)
				default:
					reports[ev.SLOID] = r
				}
			}
			if _, gone := verdict[ev.ID]; !gone {
				silenced, err := n.store.Silenced(ctx, r.ID, r.ServiceID)
				if err != nil {
					return nil, err
				}
				switch {
				case silenced:
					verdict[ev.ID] = "silenced (maintenance window or silence) when it was about to be sent"
				case !ev.Holds(r):
					verdict[ev.ID] = "no longer held when checked again just before sending"
				}
			}
			if why := verdict[ev.ID]; why != "" {
				if err := n.store.DropEvent(ctx, ev, why); err != nil {
					return nil, err
				}
				n.log.Info("firing event dropped", "event", ev.UID, "alert", ev.AlertKey, "why", why)
			}
		}
		if verdict[ev.ID] == "" {
			todo = append(todo, ob)
		}
	}
	return todo, nil
}

// deliver sends one delivery through its channel's type.
func (n *Notifier) deliver(ctx context.Context, ob models.Outbound) models.Outcome {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	m := n.message(ob)
	var err error
	switch ob.Channel.Type {
	case models.ChannelWebhook:
		err = n.sendWebhook(ctx, ob.Channel, m)
	case models.ChannelSlack:
		err = n.sendSlack(ctx, ob.Channel, m)
	case models.ChannelTeams:
		err = n.sendTeams(ctx, ob.Channel, m)
	case models.ChannelPagerDuty:
		err = n.sendPagerDuty(ctx, ob.Channel, m)
	case models.ChannelAlertmanager:
		err = n.sendAlertmanager(ctx, ob.Channel, []message{m})
	case models.ChannelEmail:
		err = n.sendEmail(ctx, ob.Channel, m)
	default:
		err = permanent(fmt.Errorf("unknown channel type %q", ob.Channel.Type))
	}
	if err == nil {
		return models.Outcome{Sent: true}
	}
	var p *permanentError
	return models.Outcome{Err: clip(err.Error(), 500), Permanent: errors.As(err, &p)}
}

// permanentError is a refusal that retrying cannot change (the receiver rejected the
// message itself, or the channel is misconfigured).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// refreshAlertmanager restates every firing alert to the Alertmanager channels that
// want it, so Alertmanager does not resolve them on its own.
func (n *Notifier) refreshAlertmanager(ctx context.Context) error {
	chans, err := n.store.Channels(ctx)
	if err != nil {
		return err
	}
	var ams []models.Channel
	for _, c := range chans {
		if c.Type == models.ChannelAlertmanager {
			ams = append(ams, c)
		}
	}
	if len(ams) == 0 {
		return nil
	}
	firing, err := n.store.FiringAlerts(ctx)
	if err != nil {
		return err
	}
	for _, c := range ams {
		var ms []message
		for _, f := range firing {
			d := f.Event.Detail()
			if f.Event.ID == 0 || !c.Wants(f.Event.Severity, d.SLO.Service, d.SLO.Team) {
				continue
			}
			ms = append(ms, n.message(models.Outbound{Event: f.Event, Channel: c}))
		}
		if len(ms) == 0 {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err := n.sendAlertmanager(sctx, c, ms)
		cancel()
		if err != nil {
			n.log.Warn("firing alerts not restated to Alertmanager", "channel", c.Name, "err", err)
		}
	}
	return nil
}
