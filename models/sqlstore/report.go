package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// reportCache keeps each SLO's monthly report for the data version it was computed
// at, so a report costs only the SLOs whose data changed since it was last shown.
type reportCache struct {
	mu sync.Mutex
	m  map[string]models.MonthReport
}

const reportCacheMax = 20000

func (c *reportCache) get(key string) (models.MonthReport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	return r, ok
}

func (c *reportCache) put(key string, r models.MonthReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= reportCacheMax {
		c.m = map[string]models.MonthReport{}
	}
	c.m[key] = r
}

// MonthlyReport judges every SLO over the calendar month that starts on month (each
// SLO in its own time zone) against the target in force at that month's end, with the
// eleven months before it. The month in progress ends at the SLO's data time, like its
// other numbers, and carries its current status.
func (s *Store) MonthlyReport(ctx context.Context, year int, month time.Month, now time.Time) ([]models.MonthReport, error) {
	reports, err := s.Reports(ctx, now)
	if err != nil {
		return nil, err
	}
	out := make([]models.MonthReport, 0, len(reports))
	for _, r := range reports {
		key := fmt.Sprintf("%d/%d/%04d-%02d/%s", r.ID, r.Version, year, month, r.Eval.Status)
		if mr, ok := s.reports.get(key); ok {
			out = append(out, mr)
			continue
		}
		mr, err := s.monthReport(ctx, r, year, month)
		if err != nil {
			return nil, err
		}
		s.reports.put(key, mr)
		out = append(out, mr)
	}
	return out, nil
}

func (s *Store) monthReport(ctx context.Context, r models.SLOReport, year int, month time.Month) (models.MonthReport, error) {
	d := r.SLODetail
	loc := d.Window().Location()
	end := r.Eval.End
	first := time.Date(year, month-11, 1, 0, 0, 0, 0, loc)
	ref, _, err := s.refOf(ctx, d)
	if err != nil {
		return models.MonthReport{}, err
	}
	maint, err := s.maintenanceFor(ctx, d)
	if err != nil {
		return models.MonthReport{}, err
	}
	spans := spansOf(maint)
	var months, ranges []models.Range
	for m := first; !m.After(time.Date(year, month, 1, 0, 0, 0, 0, loc)); m = m.AddDate(0, 1, 0) {
		rg := models.Range{From: m, To: m.AddDate(0, 1, 0)}
		months = append(months, rg)
		if rg.To.After(end) {
			rg.To = end
		}
		if !rg.To.After(rg.From) {
			rg.To = rg.From
		}
		ranges = append(ranges, rg)
	}
	sums, err := s.sumsOf(ctx, ref, ranges, spans)
	if err != nil {
		return models.MonthReport{}, err
	}
	mr := models.MonthReport{SLODetail: d, Status: r.Eval.Status}
	for i, m := range months {
		obj := d.ObjectiveFor(m.To)
		if m.To.After(end) {
			obj = d.Objective(end) // the month in progress is judged by the target now
		}
		mr.History = append(mr.History, obj.AttainmentOf(sums[i], m.From, m.To, obj.Target))
	}
	last := len(months) - 1
	cur := months[last]
	obj := d.ObjectiveFor(cur.To)
	inProgress := cur.To.After(end)
	if inProgress {
		obj = d.Objective(end)
	}
	// Time in breach follows the budget hour by hour through the month.
	if ranges[last].To.After(cur.From) {
		pts, err := s.hourPoints(ctx, ref, cur.From.Unix(), ranges[last].To.Unix(), spans)
		if err != nil {
			return models.MonthReport{}, err
		}
		breach := models.Attainment(obj, pts, nil, cur.From, cur.To, obj.Target).TimeInBreach
		if inProgress && breach > 0 {
			breach = max(0, breach-cur.To.Sub(end)) // a breach runs to the data time, not the month's end
		}
		mr.History[last].TimeInBreach = breach
	}
	mr.Month = mr.History[last]
	var anns []models.Annotation
	if err := s.reads(ctx).Where("kind = ? AND at >= ? AND at < ? AND (slo_id = ? OR service_id = ? OR (slo_id IS NULL AND service_id IS NULL))",
		"incident", cur.From.UTC(), cur.To.UTC(), d.ID, d.ServiceID).Order("at").Find(&anns).Error; err != nil {
		return models.MonthReport{}, fmt.Errorf("list incidents: %w", err)
	}
	mr.Incidents = anns
	return mr, nil
}
