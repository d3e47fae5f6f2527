// Package handlers is Sitemetrics' HTTP edge: routes, middleware, and one file
// per resource or action. Handlers build view models and render views; all
// storage goes through the Store interface.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// Config is what the HTTP layer needs from the app's configuration.
type Config struct {
	BaseURL        string // public URL, for printed webhook URLs and cookie Secure
	IngestMaxBytes int64  // webhook body limit
	IngestMaxRows  int    // rows per delivery
	DeliveryKeep   int    // bytes of a refused body kept in the delivery log
	TrustedProxies []string
	Version        string
}

// Deps are the handlers' dependencies, passed in by run.
type Deps struct {
	Store   Store
	Spool   *models.Spool // nil: no spool (the database's failure is the sender's)
	Log     *slog.Logger
	Metrics *Metrics
	Config  Config
	Now     func() time.Time
}

// Handler serves every route.
type Handler struct {
	store   Store
	spool   *models.Spool
	log     *slog.Logger
	metrics *Metrics
	cfg     Config
	now     func() time.Time
	tokens  *tokenCache
}

// New builds the handler set.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.Config.IngestMaxBytes <= 0 {
		d.Config.IngestMaxBytes = 1 << 20
	}
	return &Handler{store: d.Store, spool: d.Spool, log: d.Log, metrics: d.Metrics, cfg: d.Config,
		now: d.Now, tokens: newTokenCache()}
}

// Store is every storage operation the handlers use; *models.Store implements it.
type Store interface {
	Ready(ctx context.Context) error

	FeedByToken(ctx context.Context, plain string) (models.Feed, int64, error)
	Feed(ctx context.Context, id int64) (models.Feed, error)
	Feeds(ctx context.Context) ([]models.FeedSummary, error)
	IngestBody(ctx context.Context, feed models.Feed, tokenID int64, body []byte, contentType string,
		receivedAt time.Time, opt models.IngestOptions) (models.IngestResult, error)
	RecordRefusal(ctx context.Context, feed models.Feed, tokenID int64, head []byte, size int, contentType string,
		receivedAt time.Time, refusal error, maxRaw int) error
	Deliveries(ctx context.Context, feedID int64, q models.DeliveryQuery) ([]models.Delivery, error)
	Samples(ctx context.Context, feedID int64, q models.SampleQuery) ([]models.Sample, error)

	APITokenBySecret(ctx context.Context, plain string) (models.APIToken, error)
}
