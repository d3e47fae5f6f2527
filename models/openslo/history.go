package openslo

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// historyEntry is one target change in the HistoryAnnotation: from From on, the
// objective's target is Target. Objective is the objective's index, left out for
// the first (and, in an SLO with one objective, only) one.
type historyEntry struct {
	Objective int     `json:"objective,omitempty"`
	From      string  `json:"from"`
	Target    float64 `json:"target"`
}

// Epoch is when an SLO's first target takes effect: it judges all of its history.
var Epoch = time.Unix(0, 0).UTC()

// Trivial reports whether a target history says no more than its current target:
// one target, in force since the epoch.
func Trivial(h []models.TargetChange) bool {
	return len(h) == 0 || (len(h) == 1 && h[0].From.Equal(Epoch))
}

// parseHistory reads the HistoryAnnotation: per objective index, its changes in order.
func parseHistory(value, where string) (map[int][]models.TargetChange, error) {
	out := map[int][]models.TargetChange{}
	if strings.TrimSpace(value) == "" {
		return out, nil
	}
	path := fmt.Sprintf("metadata.annotations[%q]", HistoryAnnotation)
	var entries []historyEntry
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, at(where, path, `is not a target history: expected JSON such as [{"from":"2026-03-01T00:00:00Z","target":0.999}] (%v)`, err)
	}
	for i, e := range entries {
		t, err := time.Parse(time.RFC3339Nano, e.From)
		if err != nil {
			return nil, at(where, path, "entry %d: from %q is not an RFC 3339 time such as 2026-03-01T00:00:00Z", i, e.From)
		}
		if err := models.ValidateTarget(e.Target); err != nil {
			return nil, at(where, path, "entry %d: target %v is not a fraction between 0 and 1 (exclusive)", i, e.Target)
		}
		if e.Objective < 0 {
			return nil, at(where, path, "entry %d: objective %d is not an objective's index", i, e.Objective)
		}
		h := out[e.Objective]
		if len(h) > 0 && !t.After(h[len(h)-1].From) {
			return nil, at(where, path, "entry %d: the changes of objective %d must be in time order, each later than the one before", i, e.Objective)
		}
		out[e.Objective] = append(h, models.TargetChange{From: t.UTC(), Target: e.Target})
	}
	return out, nil
}

// formatHistory writes the histories of an SLO's objectives (by index) as the
// HistoryAnnotation, or "" when every one is trivial.
func formatHistory(histories [][]models.TargetChange) string {
	var entries []historyEntry
	for i, h := range histories {
		if Trivial(h) {
			continue
		}
		for _, c := range h {
			entries = append(entries, historyEntry{Objective: i, From: c.From.UTC().Format(time.RFC3339Nano), Target: c.Target})
		}
	}
	if len(entries) == 0 {
		return ""
	}
	b, _ := json.Marshal(entries)
	return string(b)
}

// History is an SLO's stored targets as changes, oldest first.
func History(d models.SLODetail) []models.TargetChange {
	out := make([]models.TargetChange, len(d.Targets))
	for i, t := range d.Targets {
		out[i] = models.TargetChange{From: t.EffectiveFrom.UTC(), Target: t.Target}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].From.Before(out[j].From) })
	return out
}

// HasPrefix reports whether h starts with every change of prefix.
func HasPrefix(h, prefix []models.TargetChange) bool {
	if len(prefix) > len(h) {
		return false
	}
	for i, c := range prefix {
		if !c.From.Equal(h[i].From) || c.Target != h[i].Target {
			return false
		}
	}
	return true
}

// DescribeHistory writes changes for people: "99.9% from 1970-01-01T00:00:00Z, 99.5% from …".
func DescribeHistory(h []models.TargetChange) string {
	parts := make([]string, len(h))
	for i, c := range h {
		parts[i] = fmt.Sprintf("%s%% from %s", models.FormatPercent(c.Target), c.From.UTC().Format(time.RFC3339Nano))
	}
	return strings.Join(parts, ", ")
}
