package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
	"github.com/sitemetrics/sitemetrics/views/charts"
)

// adjustmentText says who changed an SLO's numbers after the fact, when,
// and why: "Target 99.9% → 99.5%, set by alice Thu 12 Nov 10:00 CET".
func adjustmentText(a models.Adjustment, now time.Time, loc *time.Location) string {
	made := a.By + " " + views.DateTime(a.Made, now, loc)
	switch a.Kind {
	case models.AdjustTarget:
		return "T" + a.Why[1:] + ", set by " + made
	case models.AdjustMaintenanceAdded:
		return "Maintenance “" + a.Why + "” (" + windowText(a, now, loc) + ") added afterwards by " + made + ": its time left the budget"
	default:
		return "Maintenance “" + a.Why + "” (" + windowText(a, now, loc) + ") removed afterwards by " + made + ": its time counts again"
	}
}

func windowText(a models.Adjustment, now time.Time, loc *time.Location) string {
	start := views.DateTime(a.At, now, loc)
	if a.Until == nil {
		return start
	}
	if s, e := a.At.In(loc), a.Until.In(loc); s.YearDay() == e.YearDay() && s.Year() == e.Year() {
		// One day: "Wed 2 Dec 12:00–13:30 CET".
		return strings.TrimSuffix(start, s.Format(" MST")) + "–" + e.Format("15:04 MST")
	}
	return start + " – " + views.DateTime(*a.Until, now, loc)
}

// adjustmentMarks are the chart markers of an SLO's adjustments in [from, to]:
// a target change where it came into force, a window added or removed late
// where it begins (the chart's start if it began before).
func (h *Handler) adjustmentMarks(ctx context.Context, d models.SLODetail, from, to, now time.Time, loc *time.Location) ([]charts.Annotation, error) {
	adjs, err := h.store.Adjustments(ctx, []models.SLODetail{d}, from, to)
	if err != nil {
		return nil, err
	}
	var out []charts.Annotation
	for _, a := range adjs[d.ID] {
		at := a.At
		if at.Before(from) {
			at = from
		}
		out = append(out, charts.Annotation{T: at, Kind: "adjusted", Label: adjustmentText(a, now, loc)})
	}
	return out, nil
}
