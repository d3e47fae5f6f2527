// Package openslo reads and writes OpenSLO v1 files (SLOs as code). It is pure:
// Parse turns a file into a Plan, Export turns stored services and SLOs into a
// file, and Compare says what applying a Plan would change; the store applies it.
//
// Mapping. An OpenSLO SLO with one objective is one Sitemetrics SLO of the same
// name. An OpenSLO SLO with several objectives is one Sitemetrics SLO per
// objective, each with its own budget: the first keeps the OpenSLO name, the
// objective at index i (0-based) is named "<name>.<i+1>" ("checkout-latency.2").
// A dot never occurs in an OpenSLO name (RFC 1123 labels), so these names cannot
// collide with another OpenSLO SLO, and adding a second objective does not rename
// the first. Each keeps ObjectiveOf (the OpenSLO name) and ObjectiveIndex, and
// Export groups them back into one document.
package openslo

import (
	"fmt"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

const (
	openSLOVersion = "openslo/v1"
	// LatencyAnnotation lists the latency fields to chart (p50, p95, p99).
	LatencyAnnotation = "sitemetrics.io/latency-fields"
	// HistoryAnnotation holds the effective-dated targets of every objective, as JSON.
	HistoryAnnotation    = "sitemetrics/target-history"
	sitemetricsSourceKey = "sitemetrics"
)

// Plan is what an OpenSLO file would change, checked but not applied.
type Plan struct {
	Services []Service
	// SLOs holds one entry per objective (see the package comment).
	SLOs []SLO
	// Alerting are the AlertPolicy, AlertCondition and AlertNotificationTarget
	// documents: kept and exported again, not applied.
	Alerting []Document
	// Notices say what was read but has no effect (yet).
	Notices []string
}

// Service is a Service document.
type Service struct {
	Input                            models.ServiceInput
	DisplayName, Labels, Annotations string
	Where                            string
}

// SLO is one objective of an SLO document: one Sitemetrics SLO.
type SLO struct {
	Input models.SLOInput
	// Labels and Annotations are canonical JSON objects ("" when none); the
	// annotations Sitemetrics reads (latency fields, target history) are not in them.
	Labels, Annotations string
	ObjectiveName       string
	ObjectiveOf         string
	ObjectiveIndex      int
	// Extras is canonical JSON of what Sitemetrics keeps without acting on it.
	Extras string
	// History is the objective's target history from the file; nil when it gives none.
	History []models.TargetChange
	// SliceWindow is the objective's timeSliceWindow, 0 when not given: it must equal
	// the feed's interval, since one sample is one slice.
	SliceWindow time.Duration
	// AlertPolicyRefs name AlertPolicy documents this SLO refers to.
	AlertPolicyRefs []string
	// Where names the document and objective, for messages.
	Where string
}

// Document is an OpenSLO document kept as given, as canonical JSON.
type Document struct {
	Kind, Name string
	Body       string
}

// Change is what applying a plan does to one service or SLO.
type Change struct {
	Kind   string // "service" or "SLO"
	Name   string
	Action string // ActionCreate, ActionUpdate or ActionNone
	// Diff lists what changes, one "field: before → after" line each.
	Diff []string
}

// The actions of a Change.
const (
	ActionCreate = "created"
	ActionUpdate = "updated"
	ActionNone   = "unchanged"
)

// Result is what an import did, or with DryRun would do.
type Result struct {
	DryRun   bool
	Services []Change
	SLOs     []Change
	Notices  []string
}

// Count is how many SLOs (or, with kind "service", services) had the action.
func (r Result) Count(kind, action string) int {
	list := r.SLOs
	if kind == "service" {
		list = r.Services
	}
	n := 0
	for _, c := range list {
		if c.Action == action {
			n++
		}
	}
	return n
}

// Summary is one line: what was created, updated and left unchanged.
func (r Result) Summary() string {
	verb := ""
	if r.DryRun {
		verb = "would be "
	}
	return fmt.Sprintf("Services: %d %screated, %d %supdated, %d unchanged. SLOs: %d %screated, %d %supdated, %d unchanged.",
		r.Count("service", ActionCreate), verb, r.Count("service", ActionUpdate), verb, r.Count("service", ActionNone),
		r.Count("SLO", ActionCreate), verb, r.Count("SLO", ActionUpdate), verb, r.Count("SLO", ActionNone))
}
