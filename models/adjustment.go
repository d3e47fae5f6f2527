package models

import (
	"sort"
	"time"
)

// Adjustment kinds: what changed an SLO's numbers for time already past.
const (
	AdjustTarget             = "target"              // a new target, in force from its time on
	AdjustMaintenanceAdded   = "maintenance_added"   // a window added after it had begun: its time leaves the budget
	AdjustMaintenanceRemoved = "maintenance_removed" // a window removed after it had begun: its time counts again
)

// AdjustmentGrace is how late a maintenance window may be added and still
// count as planned: a form's "now" is typed in whole minutes.
const AdjustmentGrace = 5 * time.Minute

// Adjustment is a change, made by someone at some time, that moved an SLO's
// numbers for a period: reports and charts mark it, so that a number that was
// adjusted says so (who, when, why).
type Adjustment struct {
	Kind  string
	At    time.Time  // where it applies: the new target's start, the window's start
	Until *time.Time // the window's end; nil for a target
	By    string     // who made the change
	Made  time.Time  // when they made it
	Why   string     // the window's reason, or "target 99.9% → 99.5%"
}

// Affects reports whether a shows in the period [start, end): a target that
// came into force in it; a window that covers part of it and was added or
// removed after that part had begun (beyond AdjustmentGrace), so that numbers
// someone could have seen then were changed.
func (a Adjustment) Affects(start, end time.Time) bool {
	if a.Kind == AdjustTarget {
		return !a.At.Before(start) && a.At.Before(end)
	}
	if a.Until == nil || !a.Until.After(start) || !a.At.Before(end) {
		return false
	}
	begun := a.At
	if begun.Before(start) {
		begun = start
	}
	return a.Made.After(begun.Add(AdjustmentGrace))
}

// TargetAdjustments are an SLO's target changes (every target after the first,
// which holds from the beginning), oldest first.
func TargetAdjustments(targets []SLOTarget) []Adjustment {
	ts := append([]SLOTarget(nil), targets...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].EffectiveFrom.Before(ts[j].EffectiveFrom) })
	var out []Adjustment
	for i := 1; i < len(ts); i++ {
		out = append(out, Adjustment{Kind: AdjustTarget, At: ts[i].EffectiveFrom, By: ts[i].CreatedBy, Made: ts[i].CreatedAt,
			Why: "target " + FormatPercent(ts[i-1].Target) + "% → " + FormatPercent(ts[i].Target) + "%"})
	}
	return out
}

// AdjustmentsIn keeps those of adjs that affect [start, end), oldest first.
func AdjustmentsIn(adjs []Adjustment, start, end time.Time) []Adjustment {
	var out []Adjustment
	for _, a := range adjs {
		if a.Affects(start, end) {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}
