package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/sqlstore"
)

// The demo: a few services and SLOs on three feeds, thirty days of history
// (a full window: burn-downs are drawn across it, not from day 23 on)
// with deploys, outages and a maintenance window, then a simulated Splunk
// posting real-format webhooks every minute, with an incident in progress.
//
// The last three days are at the live feed's resolution, one row a minute,
// where burn-rate windows look; the 27 days before are one row per 10
// minutes carrying 10 minutes of traffic, as a backfill from a coarser Splunk
// search would (a 30-day chart draws about one point per 90 minutes anyway).
// That keeps the start as quick as a week of minute rows was: 24,600 rows,
// where minute rows throughout would be 130,000.

// demoDays is the history seeded; demoFineDays, the most recent part, is at
// one row a minute, the rest at one row per demoCoarse.
const (
	demoDays     = 30
	demoFineDays = 3
	demoCoarse   = 10 * time.Minute
)

const demoActor = "demo"

type demoSeries struct {
	name      string
	volume    float64 // requests per minute
	errRate   float64 // usual share of 5xx
	p95       float64 // usual p95 latency, ms
	perResult bool    // post in Splunk's "For each result" mode
}

var demoWeb = []demoSeries{
	{"checkout", 900, 0.0003, 210, false},
	{"search", 4200, 0.0015, 120, true},
	{"login", 300, 0.0002, 90, true},
}

// demoRun is a seeded demo and its simulator.
type demoRun struct {
	store   *sqlstore.Store
	log     *slog.Logger
	baseURL string
	start   time.Time
	web     string // webhook URL of the live feed
	rng     *rand.Rand
}

// seedDemo seeds an empty database (or picks up a previous demo's) and
// returns the simulator, with a fresh token for the live feed.
func seedDemo(ctx context.Context, store *sqlstore.Store, baseURL string, log *slog.Logger) (*demoRun, error) {
	d := &demoRun{store: store, log: log, baseURL: baseURL, start: store.Now().Truncate(time.Minute), rng: rand.New(rand.NewPCG(42, 7))}
	web, err := store.FeedByName(ctx, "web-slo")
	if err == nil {
		// The demo ran before on this database: keep its data, post with a fresh token.
		plain, _, err := store.CreateFeedToken(ctx, web.ID)
		if err != nil {
			return nil, err
		}
		d.web = baseURL + "/hooks/splunk/" + plain
		return d, nil
	}
	services, err := store.Services(ctx)
	if err != nil {
		return nil, err
	}
	if len(services) > 0 {
		return nil, fmt.Errorf("--demo needs an empty database, and this one has services: use another SITEMETRICS_DATA_DIR or database")
	}
	web, err = store.CreateFeed(ctx, models.FeedInput{Name: "web-slo", Interval: "1m", SeriesField: "service"})
	if err != nil {
		return nil, err
	}
	plain, _, err := store.CreateFeedToken(ctx, web.ID)
	if err != nil {
		return nil, err
	}
	d.web = baseURL + "/hooks/splunk/" + plain
	batch, err := store.CreateFeed(ctx, models.FeedInput{Name: "batch-jobs", Interval: "15m", SeriesField: "job"})
	if err != nil {
		return nil, err
	}
	if _, err := store.CreateFeed(ctx, models.FeedInput{Name: "payments-gateway", Interval: "5m", SeriesField: "service"}); err != nil {
		return nil, err
	}
	for _, s := range []models.ServiceInput{
		{Name: "checkout", Team: "payments", Tier: "1", Description: "Cart, payment and order confirmation."},
		{Name: "search", Team: "discovery", Tier: "1", Description: "Product search and suggestions."},
		{Name: "login", Team: "identity", Tier: "0", Description: "Sign-in for customers."},
		{Name: "reporting", Team: "data", Tier: "2", Description: "Nightly exports to partners."},
		{Name: "payments-api", Team: "payments", Tier: "1", Description: "Card processing (new: Splunk report not set up yet)."},
	} {
		if _, err := store.CreateService(ctx, demoActor, s); err != nil {
			return nil, err
		}
	}
	slos := []models.SLOInput{
		{Service: "checkout", Name: "checkout-availability", DisplayName: "Checkout availability", Indicator: "ratio", Target: "99.9",
			Window: "28d", Feed: "web-slo", Series: "checkout", GoodField: "good", TotalField: "total", LatencyFields: "p50_ms,p95_ms,p99_ms",
			Description: "Share of checkout requests answered without a server error."},
		{Service: "checkout", Name: "checkout-latency", DisplayName: "Checkout p95 latency", Indicator: "threshold", Target: "99",
			Window: "28d", Feed: "web-slo", Series: "checkout", ValueField: "p95_ms", Op: "lte", Threshold: "400", LatencyFields: "p50_ms,p95_ms,p99_ms",
			Description: "Minutes in which 95% of checkout requests completed within 400 ms."},
		{Service: "search", Name: "search-availability", DisplayName: "Search availability (monthly)", Indicator: "ratio", Target: "99.5",
			Window: "month", TimeZone: "Europe/Madrid", Feed: "web-slo", Series: "search", GoodField: "good", TotalField: "total", LatencyFields: "p50_ms,p95_ms,p99_ms"},
		{Service: "login", Name: "login-availability", DisplayName: "Login availability", Indicator: "ratio", Target: "99.95",
			Window: "30d", Feed: "web-slo", Series: "login", BadField: "errors", TotalField: "total"},
		{Service: "reporting", Name: "nightly-export", DisplayName: "Partner export jobs", Indicator: "ratio", Target: "99",
			Window: "7d", Feed: "batch-jobs", Series: "partner-export", GoodField: "succeeded", TotalField: "runs"},
		{Service: "payments-api", Name: "payments-api-latency", DisplayName: "Payments API p99 latency", Indicator: "threshold", Target: "99.5",
			Window: "30d", Feed: "payments-gateway", Series: "payments-api", ValueField: "p99_ms", Op: "lte", Threshold: "800"},
	}
	for _, in := range slos {
		if _, _, err := store.CreateSLO(ctx, demoActor, in); err != nil {
			return nil, fmt.Errorf("demo SLO %s: %w", in.Name, err)
		}
	}
	if err := d.history(ctx, web, batch); err != nil {
		return nil, err
	}
	return d, nil
}

// history writes the past thirty days through the ingest path, in batches of
// a few thousand rows.
func (d *demoRun) history(ctx context.Context, web, batch models.Feed) error {
	from := d.start.Add(-demoDays * 24 * time.Hour)
	fine := d.start.Add(-demoFineDays * 24 * time.Hour)
	var buf bytes.Buffer
	rows := 0
	flush := func(f models.Feed) error {
		if buf.Len() == 0 {
			return nil
		}
		_, err := d.store.IngestBody(ctx, f, 0, buf.Bytes(), "application/x-ndjson", d.start, models.IngestOptions{MaxRows: 100000})
		buf.Reset()
		rows = 0
		return err
	}
	for t := from; t.Before(d.start); {
		step := time.Minute
		if t.Before(fine) {
			step = demoCoarse
		}
		for _, s := range demoWeb {
			buf.WriteString(d.rowFor(s, t, step))
			buf.WriteByte('\n')
			rows++
		}
		if rows >= 900 { // bigger batches bind slower on SQLite than they save
			if err := flush(web); err != nil {
				return err
			}
		}
		t = t.Add(step)
	}
	if err := flush(web); err != nil {
		return err
	}
	// The batch feed ran every 15 minutes until three hours ago, then stopped.
	for t := from; t.Before(d.start.Add(-3 * time.Hour)); t = t.Add(15 * time.Minute) {
		failed := 0
		if d.rng.Float64() < 0.02 {
			failed = 1
		}
		fmt.Fprintf(&buf, `{"_time":"%d","job":"partner-export","runs":"4","succeeded":"%d"}`+"\n", t.Unix(), 4-failed)
		if rows++; rows >= 900 {
			if err := flush(batch); err != nil {
				return err
			}
		}
	}
	if err := flush(batch); err != nil {
		return err
	}
	checkout, err := d.store.SLOByName(ctx, "checkout-availability")
	if err != nil {
		return err
	}
	for _, a := range []struct {
		ago     time.Duration
		version string
	}{{demoOldIncidentAgo + 26*time.Hour, "v2.3.0"}, {demoOldIncidentAgo - 2*time.Hour, "v2.3.1"}, {3*24*time.Hour + 5*time.Hour, "v2.4.1"}} {
		at := d.start.Add(-a.ago)
		if _, err := d.store.CreateAnnotation(ctx, demoActor, models.AnnotationInput{Kind: "deploy", Title: "checkout " + a.version,
			Service: "checkout", At: &at, Link: "https://git.example.com/shop/checkout/releases/" + a.version}); err != nil {
			return err
		}
	}
	old := d.start.Add(-demoOldIncidentAgo)
	oldEnd := old.Add(time.Hour)
	if _, err := d.store.CreateAnnotation(ctx, demoActor, models.AnnotationInput{Kind: "incident", Title: "INC-4107 payment provider timeouts",
		Service: "checkout", At: &old, EndsAt: &oldEnd}); err != nil {
		return err
	}
	outage := d.start.Add(-52 * time.Hour)
	outageEnd := outage.Add(95 * time.Minute)
	if _, err := d.store.CreateAnnotation(ctx, demoActor, models.AnnotationInput{Kind: "incident", Title: "INC-4211 identity provider outage",
		Service: "login", At: &outage, EndsAt: &outageEnd}); err != nil {
		return err
	}
	incident := d.start.Add(-35 * time.Minute)
	if _, err := d.store.CreateAnnotation(ctx, demoActor, models.AnnotationInput{Kind: "incident", Title: "INC-4302 payment provider errors",
		SLO: checkout.Name, At: &incident}); err != nil {
		return err
	}
	search, err := d.store.SLOByName(ctx, "search-availability")
	if err != nil {
		return err
	}
	mStart := d.start.Add(-30 * time.Hour).Truncate(time.Hour)
	_, err = d.store.CreateMaintenance(ctx, demoActor, models.MaintenanceInput{ServiceID: &search.ServiceID,
		StartsAt: mStart, EndsAt: mStart.Add(90 * time.Minute), Reason: "Search index rebuild"})
	return err
}

// demoOldIncidentAgo is when checkout's earlier incident began: a step in
// its burn-down, three weeks into the window.
const demoOldIncidentAgo = 19*24*time.Hour + 7*time.Hour

// row is one minute of one service, as Splunk's report would compute it:
// every value a string, as Splunk sends them.
func (d *demoRun) row(s demoSeries, t time.Time) string { return d.rowFor(s, t, time.Minute) }

// rowFor is the row for the span [t, t+span): its counts add up over it.
func (d *demoRun) rowFor(s demoSeries, t time.Time, span time.Duration) string {
	errRate, p95 := s.errRate, s.p95
	hour := float64(t.Hour()) + float64(t.Minute())/60
	volume := s.volume * span.Minutes() * (0.55 + 0.45*math.Sin((hour-9)/24*2*math.Pi)) * (0.9 + 0.2*d.rng.Float64())
	old := d.start.Add(-demoOldIncidentAgo)
	switch {
	case s.name == "checkout" && !t.Before(old) && t.Before(old.Add(time.Hour)):
		errRate, p95 = 0.05, 640 // INC-4107: an hour of payment provider timeouts
	case s.name == "search" && !t.Before(d.start.Add(-12*24*time.Hour)) && t.Before(d.start.Add(-12*24*time.Hour+3*time.Hour)):
		errRate = 0.004 // a slow index shard: a few errors, within budget
	case s.name == "login" && !t.Before(d.start.Add(-52*time.Hour)) && t.Before(d.start.Add(-52*time.Hour+95*time.Minute)):
		// The identity provider outage: 95 minutes at 12% of 300 requests a
		// minute is 3,420 bad, where 30 days of about 7 million requests at
		// 99.95% allow about 3,560 and the usual 0.02% adds 1,400: overspent,
		// whatever the hour the demo starts at.
		errRate, volume = 0.12, s.volume*span.Minutes()
	case s.name == "search" && !t.Before(d.start.Add(-30*time.Hour).Truncate(time.Hour)) && t.Before(d.start.Add(-30*time.Hour).Truncate(time.Hour).Add(90*time.Minute)):
		errRate, p95 = 0.2, 900 // during the maintenance window: excluded
	case s.name == "checkout" && d.incident(t):
		errRate, p95 = 0.045, 520
	}
	total := math.Round(volume)
	errs := math.Round(total * errRate * (0.5 + d.rng.Float64()))
	if d.rng.Float64() < total*errRate-math.Floor(total*errRate) {
		errs++
	}
	errs = math.Min(errs, total)
	p95 = p95 * (0.85 + 0.3*d.rng.Float64())
	return fmt.Sprintf(`{"_time":"%d","service":"%s","total":"%d","good":"%d","errors":"%d","p50_ms":"%.1f","p95_ms":"%.1f","p99_ms":"%.1f"}`,
		t.Unix(), s.name, int(total), int(total-errs), int(errs), p95*0.45, p95, p95*1.7)
}

// incident: checkout's payment provider fails from 35 minutes before the
// demo started until 25 minutes after, then every few hours for 20 minutes.
func (d *demoRun) incident(t time.Time) bool {
	since := t.Sub(d.start)
	if since >= -35*time.Minute && since < 25*time.Minute {
		return true
	}
	return since > 0 && since%(4*time.Hour) < 20*time.Minute && since > 4*time.Hour
}

// simulate posts like Splunk's webhook alert action every minute until ctx
// ends: checkout in "Once" mode (the first row), search and login in
// "For each result" mode (one POST per row, one sid).
func (d *demoRun) simulate(ctx context.Context) {
	client := &http.Client{Timeout: 10 * time.Second}
	tick := func(now time.Time) {
		at := now.Truncate(time.Minute)
		sid := fmt.Sprintf("scheduler__svc-splunk__search__RMD5d3m0f33d5ca1ab1e_at_%d_%d", at.Unix(), at.Unix()%997)
		for i, s := range demoWeb {
			link := d.baseURL + "/help#splunk" // stands in for Splunk's results link
			if s.perResult {
				link = fmt.Sprintf("https://splunk.example.com:8000/app/search/search?q=%%7Cloadjob%%20%s%%20%%7C%%20head%%20%d%%20%%7C%%20tail%%201", sid, i+1)
			}
			body := fmt.Sprintf(`{"sid":%q,"search_name":"SLO - web - 1m","app":"search","owner":"svc-splunk","results_link":%q,"result":%s}`,
				sid, link, d.row(s, at))
			resp, err := client.Post(d.web, "application/json", strings.NewReader(body))
			if err != nil {
				d.log.Warn("demo simulator could not post", "err", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				d.log.Warn("demo simulator post refused", "status", resp.StatusCode)
			}
		}
	}
	tick(d.store.Now())
	for {
		next := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute))
		select {
		case <-ctx.Done():
			return
		case <-time.After(next):
			tick(d.store.Now())
		}
	}
}
