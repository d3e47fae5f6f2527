package handlers

import (
	"context"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/openslo"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// Store is every storage operation the handlers use, one small interface per
// resource; *sqlstore.Store implements them all. A handler file needs only its
// resource's interface, and a test can give it only that.
type Store interface {
	HealthStore
	IngestStore
	FeedStore
	AuthStore
	NumbersStore
	ConfigStore
	NotifyStore
}

// HealthStore is what readiness asks, and how any handler tells a database that cannot
// serve from one that refused a statement.
type HealthStore interface {
	Ready(ctx context.Context) error
	// Unavailable reports whether err means the database could not serve (down, hung,
	// out of disk), decided by the drivers' error types.
	Unavailable(err error) bool
}

// IngestStore is the Splunk webhook's: token lookup, ingest, and the spool's needs.
type IngestStore interface {
	FeedByToken(ctx context.Context, plain string) (models.Feed, int64, error)
	// Down reports whether the database was last found out of reach (ingest spools).
	Down() bool
	CheckSpooled(feedID int64, parsed *splunk.Body)
	IngestBody(ctx context.Context, feed models.Feed, tokenID int64, body []byte, contentType string,
		receivedAt time.Time, opt models.IngestOptions) (models.IngestResult, error)
	RecordRefusal(ctx context.Context, feed models.Feed, tokenID int64, head []byte, size int, contentType string,
		receivedAt time.Time, refusal error, maxRaw int) error
}

// FeedStore is the feed pages' and API's: feeds, tokens, the delivery log, samples.
type FeedStore interface {
	Feed(ctx context.Context, id int64) (models.Feed, error)
	Feeds(ctx context.Context) ([]models.FeedSummary, error)
	CreateFeed(ctx context.Context, in models.FeedInput) (models.Feed, error)
	UpdateFeed(ctx context.Context, id int64, in models.FeedInput) (models.Feed, error)
	DeleteFeed(ctx context.Context, id int64) error
	CreateFeedToken(ctx context.Context, feedID int64) (string, models.FeedToken, error)
	RevokeFeedToken(ctx context.Context, feedID, tokenID int64) error
	Deliveries(ctx context.Context, feedID int64, q models.DeliveryQuery) ([]models.Delivery, error)
	Delivery(ctx context.Context, feedID, id int64) (models.Delivery, error)
	ReplayQuarantined(ctx context.Context, feedID, deliveryID int64, opt models.IngestOptions) (models.IngestResult, error)
	Samples(ctx context.Context, feedID int64, q models.SampleQuery) ([]models.Sample, error)
	FeedShape(ctx context.Context, feedID int64) (models.FeedShape, error)
	PreviewBody(ctx context.Context, feed models.Feed, body []byte, contentType string, now time.Time, maxRows int) (models.Preview, error)
}

// AuthStore is sign-in's: users, sessions, throttling, API tokens and kiosk links.
type AuthStore interface {
	UserByName(ctx context.Context, username string) (models.User, error)
	UserByID(ctx context.Context, id int64) (models.User, error)
	Users(ctx context.Context) ([]models.UserSummary, error)
	RecordLocalLogin(ctx context.Context, userID int64) error
	SetLocalPassword(ctx context.Context, userID int64, passwordHash string) error
	SetUserTimeZone(ctx context.Context, userID int64, tz string) (string, error)
	CreateSession(ctx context.Context, in models.SessionInput) (string, models.Session, error)
	SessionByToken(ctx context.Context, plain string) (models.SessionUser, error)
	EndSession(ctx context.Context, plain string) error
	EndUserSessions(ctx context.Context, userID int64) (int64, error)
	UserSessions(ctx context.Context, userID int64) ([]models.Session, error)
	AdmitLogin(ctx context.Context, username, clientIP string, p models.LoginThrottle) (models.Admission, error)
	LoginSucceeded(ctx context.Context, username, clientIP string) error
	APITokenBySecret(ctx context.Context, plain string) (models.APIToken, error)
	APITokens(ctx context.Context) ([]models.APIToken, error)
	CreateAPIToken(ctx context.Context, name string, role models.Role, createdBy string) (string, models.APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64) error
	CreateKioskLink(ctx context.Context, actor, name string, valid time.Duration, tz string) (string, models.KioskLink, error)
	KioskLinkBySecret(ctx context.Context, plain string) (models.KioskLink, error)
	KioskLinks(ctx context.Context) ([]models.KioskLink, error)
	RevokeKioskLink(ctx context.Context, actor string, id int64) error
}

// NumbersStore is the read model: what the overview, detail, TV, report and API show.
type NumbersStore interface {
	// Reports is every SLO's report, by name, in a slice shared by readers: sort a copy.
	Reports(ctx context.Context, now time.Time) ([]models.SLOReport, error)
	Report(ctx context.Context, id int64, now time.Time) (models.SLOReport, error)
	Charts(ctx context.Context, r models.SLOReport, from, to time.Time) (models.ChartData, error)
	AnnotationsFor(ctx context.Context, d models.SLODetail, from, to time.Time) ([]models.Annotation, error)
	Adjustments(ctx context.Context, slos []models.SLODetail, from, to time.Time) (map[int64][]models.Adjustment, error)
	MonthlyReport(ctx context.Context, year int, month time.Month, now time.Time) ([]models.MonthReport, error)
}

// ConfigStore is what SREs configure: services, SLOs, maintenance, annotations,
// OpenSLO, and the audit log that records it.
type ConfigStore interface {
	Services(ctx context.Context) ([]models.Service, error)
	Service(ctx context.Context, id int64) (models.Service, error)
	CreateService(ctx context.Context, actor string, in models.ServiceInput) (models.Service, error)
	UpdateService(ctx context.Context, actor string, id int64, in models.ServiceInput) (models.Service, error)
	DeleteService(ctx context.Context, actor string, id int64) error
	SLOs(ctx context.Context) ([]models.SLODetail, error)
	SLO(ctx context.Context, id int64) (models.SLODetail, error)
	SLOByName(ctx context.Context, name string) (models.SLODetail, error)
	CreateSLO(ctx context.Context, actor string, in models.SLOInput) (models.SLODetail, []string, error)
	UpdateSLO(ctx context.Context, actor string, id int64, in models.SLOInput) (models.SLODetail, []string, error)
	DeleteSLO(ctx context.Context, actor string, id int64) error
	Maintenances(ctx context.Context) ([]models.Maintenance, error)
	CreateMaintenance(ctx context.Context, actor string, in models.MaintenanceInput) (models.Maintenance, error)
	DeleteMaintenance(ctx context.Context, actor string, id int64) error
	Annotations(ctx context.Context, limit int) ([]models.Annotation, error)
	CreateAnnotation(ctx context.Context, actor string, in models.AnnotationInput) (models.Annotation, error)
	DeleteAnnotation(ctx context.Context, actor string, id int64) error
	Audit(ctx context.Context, q models.AuditQuery) ([]models.AuditEntry, error)
	ExportOpenSLO(ctx context.Context) ([]byte, error)
	ImportOpenSLO(ctx context.Context, actor string, plan openslo.Plan, dryRun bool) (openslo.Result, error)
}

// NotifyStore is what the notification pages and API need: channels, alerts, silences.
// Nothing here sends: a test is queued in the outbox for the background sender.
type NotifyStore interface {
	Channels(ctx context.Context) ([]models.Channel, error)
	Channel(ctx context.Context, id int64) (models.Channel, error)
	CreateChannel(ctx context.Context, actor string, in models.ChannelInput) (models.Channel, error)
	UpdateChannel(ctx context.Context, actor string, id int64, in models.ChannelInput) (models.Channel, error)
	DeleteChannel(ctx context.Context, actor string, id int64) error
	QueueTest(ctx context.Context, actor string, id int64) (models.AlertEvent, error)
	ChannelDeliveries(ctx context.Context, channelID int64, limit int) ([]models.ChannelDelivery, error)
	FiringAlerts(ctx context.Context) ([]models.FiringAlert, error)
	AlertHistory(ctx context.Context, beforeID int64, limit int) ([]models.EventSummary, error)
	Silences(ctx context.Context, limit int) ([]models.Silence, error)
	CreateSilence(ctx context.Context, actor string, in models.SilenceInput) (models.Silence, error)
	ExpireSilence(ctx context.Context, actor string, id int64) error
}
