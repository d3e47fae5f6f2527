// Package notify turns SLO status into messages that reach people. An
// evaluator decides alerts from the read model's numbers and writes events to the
// database outbox in the transaction that decides them (sqlstore.DecideAlerts); a sender
// drains the outbox in the background, checks a firing event again against the
// database just before it goes out, and delivers it to every channel that wants it,
// retrying with backoff for 24 hours. Nothing here runs on a request path.
package notify

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Store is what notifications need from storage; *sqlstore.Store implements it.
type Store interface {
	HeldReports(ctx context.Context, now time.Time) ([]models.SLOReport, error)
	DecideAlerts(ctx context.Context, reports []models.SLOReport, all bool) (int, error)
	ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]models.Outbound, error)
	CompleteDeliveries(ctx context.Context, attempts []models.Attempt, now time.Time) error
	DropEvent(ctx context.Context, ev models.AlertEvent, reason string) error
	EvaluateNow(ctx context.Context, id int64) (models.SLOReport, error)
	Silenced(ctx context.Context, sloID, serviceID int64) (bool, error)
	FiringAlerts(ctx context.Context) ([]models.FiringAlert, error)
	Channels(ctx context.Context) ([]models.Channel, error)
}

// Timing of the background work.
const (
	// evaluateEvery is how often the evaluator looks at the read model; a delivery that
	// crosses a tier is decided within about this long of the read model having it.
	evaluateEvery = 500 * time.Millisecond
	// fullPassEvery is how often every SLO is decided, changed or not (between two
	// full passes only the SLOs whose numbers changed are): it bounds how long a
	// decision waits on silences ending, damping spans and SLOs deleted.
	fullPassEvery = 10 * time.Second
	// sendEvery is how often the sender looks for due deliveries when not woken.
	sendEvery = time.Second
	// Lease is how long a claimed delivery is left to its sender: a sender killed
	// mid-send has its deliveries sent again, with the same id, after this.
	Lease = 30 * time.Second
	// recheckTimeout bounds the evaluation from the database before a firing event goes out.
	recheckTimeout = 10 * time.Second
	// sendTimeout bounds one attempt at one receiver.
	sendTimeout = 10 * time.Second
	// batch is how many deliveries one pass claims; workers send them concurrently.
	batch   = 64
	workers = 8
	// alertmanagerRefresh: Alertmanager resolves an alert that is not sent again before
	// its endsAt, so firing alerts are restated this often with endsAt an hour ahead.
	alertmanagerRefresh = 15 * time.Minute
)

// Options configure a Notifier.
type Options struct {
	// BaseURL is the app's public URL, for links to SLO pages.
	BaseURL string
	Log     *slog.Logger
	// Now is the clock for retries and leases; tests move it.
	Now func() time.Time
	// HTTP sends webhooks; nil: a client with sendTimeout.
	HTTP *http.Client
	// SMTPTLS is the TLS configuration for SMTP (tests trust their own CA); nil: the system's.
	SMTPTLS *tls.Config
	// Sent, when set, is told of every attempt (for metrics and tests).
	Sent func(ob models.Outbound, o models.Outcome)
}

// Notifier evaluates alerts and drains the outbox.
type Notifier struct {
	store Store
	opt   Options
	log   *slog.Logger
	wake  chan struct{}

	mu       sync.Mutex
	seen     map[int64]seenSLO // what the last evaluation saw, to skip passes with no news
	lastFull time.Time
	downLog  bool // the database is down and the log said so
}

type seenSLO struct {
	version int64
	stale   bool
	status  models.SLOStatus
}

func seenOf(r models.SLOReport) seenSLO {
	return seenSLO{version: r.Version, stale: r.Eval.Stale, status: r.Eval.Status}
}

// New returns a Notifier over the store.
func New(store Store, opt Options) *Notifier {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = func() time.Time { return time.Now().UTC() }
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: sendTimeout}
	}
	return &Notifier{store: store, opt: opt, log: opt.Log.With("component", "notify"), wake: make(chan struct{}, 1), seen: map[int64]seenSLO{}}
}

// Run evaluates and sends until ctx ends, then returns once both loops have stopped.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.runEvaluator(ctx) }()
	go func() { defer wg.Done(); n.runSender(ctx) }()
	wg.Wait()
}

func (n *Notifier) runEvaluator(ctx context.Context) {
	t := time.NewTicker(evaluateEvery)
	defer t.Stop()
	for {
		if _, err := n.Evaluate(ctx, false); err != nil && ctx.Err() == nil && models.ErrorCode(err) != models.ECONFLICT {
			n.outage(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Notifier) runSender(ctx context.Context) {
	t := time.NewTicker(sendEvery)
	defer t.Stop()
	lastRefresh := time.Time{}
	for {
		for ctx.Err() == nil {
			sent, err := n.Send(ctx)
			if err != nil {
				if ctx.Err() == nil {
					n.outage(err)
				}
				break
			}
			if sent < batch {
				break
			}
		}
		if now := n.opt.Now(); now.Sub(lastRefresh) >= alertmanagerRefresh {
			if err := n.refreshAlertmanager(ctx); err == nil {
				lastRefresh = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.wake:
		}
	}
}

// outage logs a database failure once per outage, not once per pass.
func (n *Notifier) outage(err error) {
	n.mu.Lock()
	first := !n.downLog
	n.downLog = true
	n.mu.Unlock()
	if first {
		n.log.Warn("notifications paused: the database is unavailable; nothing decided is lost, sending resumes when it is back", "err", err)
	}
}

func (n *Notifier) recovered() {
	n.mu.Lock()
	was := n.downLog
	n.downLog = false
	n.mu.Unlock()
	if was {
		n.log.Info("notifications resumed: the database is back")
	}
}

// Evaluate decides alerts from the read model for the SLOs whose numbers changed since
// the last pass; every fullPassEvery (or with force, or when SLOs came or went) for
// every SLO. It wakes the sender when it decided events, and returns how many.
func (n *Notifier) Evaluate(ctx context.Context, force bool) (int, error) {
	now := n.opt.Now()
	reports, err := n.store.HeldReports(ctx, now)
	if err != nil {
		return 0, err
	}
	n.mu.Lock()
	all := force || now.Sub(n.lastFull) >= fullPassEvery || len(reports) != len(n.seen)
	pass := reports
	if !all {
		pass = nil
		for _, r := range reports {
			if n.seen[r.ID] != seenOf(r) {
				pass = append(pass, r)
			}
		}
	}
	n.mu.Unlock()
	if len(pass) == 0 && !all {
		return 0, nil
	}
	decided, err := n.store.DecideAlerts(ctx, pass, all)
	if err != nil {
		return 0, err // busy (another replica decides) or down: the next pass tries again
	}
	n.recovered()
	n.mu.Lock()
	if all {
		n.lastFull = now
		clear(n.seen)
	}
	for _, r := range pass {
		n.seen[r.ID] = seenOf(r)
	}
	n.mu.Unlock()
	if decided > 0 {
		n.Wake()
	}
	return decided, nil
}

// Wake makes the sender look for due deliveries now.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}
