package handlers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus series the app exports on /metrics.
type Metrics struct {
	Registry        *prometheus.Registry
	Deliveries      *prometheus.CounterVec
	Rows            *prometheus.CounterVec
	RequestDuration *prometheus.HistogramVec
	Logins          *prometheus.CounterVec
}

// NewMetrics registers every series on a fresh registry (no globals, so tests
// can run several apps in one process).
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitemetrics_ingest_deliveries_total",
			Help: "Webhook deliveries by outcome (accepted, duplicate, partial, rejected, refused, spooled, unknown_token, error).",
		}, []string{"outcome"}),
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitemetrics_ingest_rows_total",
			Help: "Webhook rows by outcome (accepted, duplicate, rejected, spooled).",
		}, []string{"outcome"}),
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sitemetrics_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "code"}),
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sitemetrics_logins_total",
			Help: "Login attempts by outcome and credential source (ldap, cache, local).",
		}, []string{"outcome", "source"}),
	}
	m.Registry.MustRegister(m.Deliveries, m.Rows, m.RequestDuration, m.Logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
