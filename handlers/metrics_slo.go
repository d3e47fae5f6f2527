package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sitemetrics/sitemetrics/models"
)

// sloCollector exports every SLO's numbers at scrape time from the read model (memory,
// the same numbers every page shows), so teams with Prometheus can alert on them too.
// Series are labelled by SLO name and service, plus fixed sets (tier, window, status):
// their number is bounded by the number of SLOs, and a deleted SLO's series are gone at
// the next scrape.
type sloCollector struct {
	reports func(ctx context.Context, now time.Time) ([]models.SLOReport, error)
	now     func() time.Time
}

var (
	sloLabels      = []string{"slo", "service"}
	descBudget     = prometheus.NewDesc("sitemetrics_slo_budget_remaining", "Error budget remaining as a fraction (1 = untouched, below 0 = overspent). Absent without data.", sloLabels, nil)
	descSLI        = prometheus.NewDesc("sitemetrics_slo_sli", "Service level indicator over the SLO's window, as a fraction. Absent without data.", sloLabels, nil)
	descTarget     = prometheus.NewDesc("sitemetrics_slo_target", "The SLO's target in force, as a fraction.", sloLabels, nil)
	descBurn       = prometheus.NewDesc("sitemetrics_slo_burn_rate", "Burn rate over each tier's long and short window (window=long|short), tier as page_quick, page_slow, ticket_quick, ticket_slow.", append(sloLabels, "tier", "window"), nil)
	descFiring     = prometheus.NewDesc("sitemetrics_slo_tier_firing", "1 while a burn-rate tier fires (both its windows above its factor).", append(sloLabels, "tier"), nil)
	descStatus     = prometheus.NewDesc("sitemetrics_slo_status", "1 for the SLO's status (breached, at_risk, no_data, stale, healthy, computing), 0 for the others.", append(sloLabels, "status"), nil)
	descDataAge    = prometheus.NewDesc("sitemetrics_slo_data_age_seconds", "Seconds since the end of the newest bucket delivered for the SLO. Absent before any data.", sloLabels, nil)
	sloStatusNames = []models.SLOStatus{models.StatusBreached, models.StatusAtRisk, models.StatusNoData, models.StatusStale, models.StatusHealthy, models.StatusComputing}
)

func (sloCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBudget, descSLI, descTarget, descBurn, descFiring, descStatus, descDataAge} {
		ch <- d
	}
}

func metricName(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, " ", "_"), "-", "_")
}

func (c sloCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := c.now()
	reports, err := c.reports(ctx, now)
	if err != nil && len(reports) == 0 {
		return // the database is down and nothing is known yet: no series rather than wrong ones
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range reports {
		e, slo, svc := r.Eval, r.Name, r.Service.Name
		g(descTarget, e.Target, slo, svc)
		if e.HasData {
			g(descBudget, e.Remaining, slo, svc)
			g(descSLI, e.SLI, slo, svc)
		}
		for _, t := range e.Tiers {
			tier := metricName(t.Name)
			if t.LongHasData {
				g(descBurn, t.LongRate, slo, svc, tier, "long")
			}
			if t.ShortHasData {
				g(descBurn, t.ShortRate, slo, svc, tier, "short")
			}
			firing := 0.0
			if t.Firing {
				firing = 1
			}
			g(descFiring, firing, slo, svc, tier)
		}
		for _, st := range sloStatusNames {
			v := 0.0
			if e.Status == st {
				v = 1
			}
			g(descStatus, v, slo, svc, metricName(string(st)))
		}
		if r.LastDataAt != nil {
			g(descDataAge, max(0, now.Sub(*r.LastDataAt).Seconds()), slo, svc) // a bucket still open ends after now
		}
	}
}
