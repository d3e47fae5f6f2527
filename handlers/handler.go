// Package handlers is Sitemetrics' HTTP edge: routes, middleware, and one file
// per resource or action. Handlers build view models and render views; all
// storage goes through the Store interface.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/sitemetrics/sitemetrics/ldapauth"
	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/openslo"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// Config is what the HTTP layer needs from the app's configuration.
type Config struct {
	BaseURL        string // public URL, for printed webhook URLs and cookie Secure
	IngestMaxBytes int64  // webhook body limit
	IngestMaxRows  int    // rows per delivery
	DeliveryKeep   int    // bytes of a refused body kept in the delivery log
	TrustedProxies []string
	Version        string
	Location       *time.Location // default display time zone
}

// Deps are the handlers' dependencies, passed in by run.
type Deps struct {
	Store   Store
	Spool   *spool.Spool // nil: no spool (the database's failure is the sender's)
	Log     *slog.Logger
	Metrics *Metrics
	Config  Config
	Now     func() time.Time
	// Auth signs people in against the directory; nil means no directory:
	// local accounts only.
	Auth         Authenticator
	RoleMappings []ldapauth.RoleMapping // shown on the admin page
	Passwords    PasswordHasher
	Policy       AuthPolicy
}

// Handler serves every route.
type Handler struct {
	store        Store
	spool        *spool.Spool
	log          *slog.Logger
	metrics      *Metrics
	cfg          Config
	now          func() time.Time
	tokens       *tokenCache
	auth         Authenticator
	roleMappings []ldapauth.RoleMapping
	passwords    PasswordHasher
	policy       AuthPolicy
	dummyHash    string
	recent       recentAuth
	sparklines   sparklineCache
	chartCache   chartCache
	zones        zoneCache
}

// Authenticator is the directory sign-in with its cached-credential fallback.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password string) (ldapauth.Identity, ldapauth.Outcome, error)
	Status() ldapauth.Status
}

// PasswordHasher hashes and checks local-account passwords.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (bool, error)
}

// New builds the handler set.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = func() time.Time { return time.Now().UTC() }
	}
	if d.Config.IngestMaxBytes <= 0 {
		d.Config.IngestMaxBytes = 1 << 20
	}
	if d.Passwords == nil {
		d.Passwords = ldapauth.NewPasswords(0)
	}
	h := &Handler{store: d.Store, spool: d.Spool, log: d.Log, metrics: d.Metrics, cfg: d.Config,
		now: d.Now, tokens: newTokenCache(), auth: d.Auth, roleMappings: d.RoleMappings, passwords: d.Passwords, policy: d.Policy}
	h.policy.defaults()
	// A hash of nothing anyone knows, checked when an account does not exist,
	// so that a wrong name costs as much time as a wrong password.
	dummy, _, _ := models.NewSecret("")
	h.dummyHash, _ = h.passwords.Hash(context.Background(), dummy)
	return h
}

// Store is every storage operation the handlers use; *sqlstore.Store implements it.
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
	RecordLoginFailure(ctx context.Context, username, clientIP string) error
	LoginFailures(ctx context.Context, username, clientIP string, since time.Time) (byUser, byIP int, oldest time.Time, err error)
	ClearLoginFailures(ctx context.Context, username string) error

	Reports(ctx context.Context, now time.Time) ([]models.SLOReport, error)
	Report(ctx context.Context, id int64, now time.Time) (models.SLOReport, error)
	Charts(ctx context.Context, r models.SLOReport, from, to time.Time) (models.ChartData, error)
	AnnotationsFor(ctx context.Context, d models.SLODetail, from, to time.Time) ([]models.Annotation, error)
	Adjustments(ctx context.Context, slos []models.SLODetail, from, to time.Time) (map[int64][]models.Adjustment, error)

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
	FeedShape(ctx context.Context, feedID int64) (models.FeedShape, error)
	Maintenances(ctx context.Context) ([]models.Maintenance, error)
	CreateMaintenance(ctx context.Context, actor string, in models.MaintenanceInput) (models.Maintenance, error)
	DeleteMaintenance(ctx context.Context, actor string, id int64) error
	Annotations(ctx context.Context, limit int) ([]models.Annotation, error)
	CreateAnnotation(ctx context.Context, actor string, in models.AnnotationInput) (models.Annotation, error)
	DeleteAnnotation(ctx context.Context, actor string, id int64) error
	Audit(ctx context.Context, q models.AuditQuery) ([]models.AuditEntry, error)

	CreateFeed(ctx context.Context, in models.FeedInput) (models.Feed, error)
	UpdateFeed(ctx context.Context, id int64, in models.FeedInput) (models.Feed, error)
	DeleteFeed(ctx context.Context, id int64) error
	CreateFeedToken(ctx context.Context, feedID int64) (string, models.FeedToken, error)
	RevokeFeedToken(ctx context.Context, feedID, tokenID int64) error
	PreviewBody(ctx context.Context, feed models.Feed, body []byte, contentType string, now time.Time, maxRows int) (models.Preview, error)
	ExportOpenSLO(ctx context.Context) ([]byte, error)
	ImportOpenSLO(ctx context.Context, actor string, plan openslo.Plan, dryRun bool) (openslo.Result, error)

	APITokens(ctx context.Context) ([]models.APIToken, error)
	CreateAPIToken(ctx context.Context, name string, role models.Role, createdBy string) (string, models.APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64) error
	CreateKioskLink(ctx context.Context, actor, name string, valid time.Duration, tz string) (string, models.KioskLink, error)
	KioskLinkBySecret(ctx context.Context, plain string) (models.KioskLink, error)
	KioskLinks(ctx context.Context) ([]models.KioskLink, error)
	RevokeKioskLink(ctx context.Context, actor string, id int64) error
	MonthlyReport(ctx context.Context, year int, month time.Month, now time.Time) ([]models.MonthReport, error)
}
