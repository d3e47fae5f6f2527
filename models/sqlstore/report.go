package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models"
)

// reportCache keeps computed reports a few minutes: months that ended rarely
// change, and a report reads a year of points per SLO.
type reportCache struct {
	mu sync.Mutex
	m  map[string]reportEntry
}

type reportEntry struct {
	at   time.Time
	list []models.MonthReport
}

const reportFresh = 2 * time.Minute

// MonthlyReport judges every SLO over the calendar month that starts on
// month (any day of it; each SLO uses its own time zone) against the target
// in force at that month's end, with the eleven months before it.
func (s *Store) MonthlyReport(ctx context.Context, year int, month time.Month, now time.Time) ([]models.MonthReport, error) {
	key := fmt.Sprintf("%04d-%02d", year, month)
	s.monthly.mu.Lock()
	if e, ok := s.monthly.m[key]; ok && now.Sub(e.at) < reportFresh && !now.Before(e.at) {
		s.monthly.mu.Unlock()
		return e.list, nil
	}
	s.monthly.mu.Unlock()
	slos, err := s.SLOs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]models.MonthReport, 0, len(slos))
	for _, d := range slos {
		r, err := s.monthReport(ctx, d, year, month, now)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	s.monthly.mu.Lock()
	if s.monthly.m == nil {
		s.monthly.m = map[string]reportEntry{}
	}
	s.monthly.m[key] = reportEntry{at: now, list: out}
	s.monthly.mu.Unlock()
	return out, nil
}

func (s *Store) monthReport(ctx context.Context, d models.SLODetail, year int, month time.Month, now time.Time) (models.MonthReport, error) {
	loc := d.Window().Location()
	end := time.Date(year, month+1, 1, 0, 0, 0, 0, loc)
	first := time.Date(year, month-11, 1, 0, 0, 0, 0, loc)
	points, err := s.hourlyPoints(ctx, d, first, end)
	if err != nil {
		return models.MonthReport{}, err
	}
	r := models.MonthReport{SLODetail: d}
	for m := first; m.Before(end); m = m.AddDate(0, 1, 0) {
		mEnd := m.AddDate(0, 1, 0)
		obj := d.ObjectiveFor(mEnd)
		if mEnd.After(now) {
			obj = d.Objective(now) // the current month is judged by today's target
		}
		a := models.Attainment(obj, points, nil, m, mEnd, obj.Target)
		if mEnd.After(now) && a.BudgetUsed >= 1 && a.TimeInBreach > 0 {
			// Still in breach: the breach runs to now, not to the month's end.
			a.TimeInBreach = max(0, a.TimeInBreach-mEnd.Sub(now))
		}
		r.History = append(r.History, a)
	}
	r.Month = r.History[len(r.History)-1]
	var anns []models.Annotation
	if err := s.db.WithContext(ctx).Where("kind = ? AND at >= ? AND at < ? AND (slo_id = ? OR service_id = ? OR (slo_id IS NULL AND service_id IS NULL))",
		"incident", r.Month.Start.UTC(), r.Month.End.UTC(), d.ID, d.ServiceID).Order("at").Find(&anns).Error; err != nil {
		return models.MonthReport{}, fmt.Errorf("list incidents: %w", err)
	}
	r.Incidents = anns
	return r, nil
}

// hourlyPoints sums an SLO's points per hour outside its maintenance windows,
// so that a year costs thousands of rows, not a hundred thousand.
func (s *Store) hourlyPoints(ctx context.Context, d models.SLODetail, from, to time.Time) ([]models.Point, error) {
	bucket := "CAST(floor(extract(epoch FROM p.ts) / 3600) AS BIGINT)"
	if s.dialect == migrations.SQLite {
		bucket = "CAST(strftime('%s', p.ts) AS INTEGER) / 3600"
	}
	rows, err := s.db.WithContext(ctx).Raw(`SELECT `+bucket+` AS hour, SUM(p.good), SUM(p.total) FROM slo_points p
		WHERE p.slo_id = ? AND p.generation = ? AND p.ts >= ? AND p.ts < ?
		AND NOT EXISTS (SELECT 1 FROM maintenance_windows m WHERE (m.slo_id = ? OR m.service_id = ?) AND p.ts >= m.starts_at AND p.ts < m.ends_at)
		GROUP BY 1 ORDER BY 1`, d.ID, d.Generation, from.UTC(), to.UTC(), d.ID, d.ServiceID).Rows()
	if err != nil {
		return nil, fmt.Errorf("read hourly points of SLO %d: %w", d.ID, err)
	}
	defer rows.Close()
	var out []models.Point
	for rows.Next() {
		var hour int64
		var p models.Point
		if err := rows.Scan(&hour, &p.Good, &p.Total); err != nil {
			return nil, err
		}
		p.At = time.Unix(hour*3600, 0).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}
