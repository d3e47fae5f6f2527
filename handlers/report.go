package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// reportsIndex sends /reports to the current month (or the one picked).
func (h *Handler) reportsIndex(c *gin.Context) {
	m := c.Query("month")
	if _, err := time.Parse("2006-01", m); err != nil {
		m = h.now().In(h.location(c)).Format("2006-01")
	}
	c.Redirect(http.StatusSeeOther, "/reports/"+m)
}

// showReport renders /reports/yyyy-mm, or its CSV at /reports/yyyy-mm.csv.
func (h *Handler) showReport(c *gin.Context) {
	raw := c.Param("month")
	asCSV := strings.HasSuffix(raw, ".csv")
	month, err := time.Parse("2006-01", strings.TrimSuffix(raw, ".csv"))
	if err != nil || month.Year() < 2000 {
		h.fail(c, models.Errorf(models.ENOTFOUND, "%q is not a month: the report's address is /reports/yyyy-mm, e.g. /reports/2026-11.", raw))
		return
	}
	now := h.now()
	list, err := h.store.MonthlyReport(c.Request.Context(), month.Year(), month.Month(), now)
	if err != nil {
		h.fail(c, err)
		return
	}
	sortReport(list)
	adjusted, err := h.monthAdjustments(c.Request.Context(), list)
	if err != nil {
		h.fail(c, err)
		return
	}
	if asCSV {
		h.reportCSV(c, month, list, adjusted, now)
		return
	}
	loc := h.location(c)
	current := now.In(loc).Format("2006-01")
	v := views.ReportView{Month: month.Format("2006-01"), Label: month.Format("January 2006"), Prev: month.AddDate(0, -1, 0).Format("2006-01"),
		CSV: "/reports/" + month.Format("2006-01") + ".csv", Current: month.Format("2006-01") == current}
	if next := month.AddDate(0, 1, 0).Format("2006-01"); next <= current {
		v.Next = next
	}
	cur, _ := time.Parse("2006-01", current)
	for i := 0; i < 24; i++ {
		m := cur.AddDate(0, -i, 0)
		v.Months = append(v.Months, views.Option{Value: m.Format("2006-01"), Label: m.Format("January 2006")})
	}
	for _, r := range list {
		a := r.Month
		row := views.ReportRow{ID: r.ID, Name: r.Title(), Service: r.Service.Name, Target: targetPct(a.Target), SLI: "—",
			BudgetUsed: "—", TimeInBreach: span(a.TimeInBreach), Met: a.Met, NoData: !a.HasData, Over: a.BudgetUsed > 1}
		if a.HasData {
			row.SLI, row.BudgetUsed = sliPct(a.SLI, a.Target), pct(a.BudgetUsed)
			v.Total++
			if a.Met {
				v.Met++
			}
		} else {
			v.Unjudged = append(v.Unjudged, r.Title())
		}
		if a.TimeInBreach == 0 {
			row.TimeInBreach = "—"
		}
		for _, i := range r.Incidents {
			row.Incidents = append(row.Incidents, views.Date(i.At, now, loc)+" "+i.Title)
		}
		for _, x := range adjusted[r.ID] {
			row.Adjustments = append(row.Adjustments, adjustmentText(x, now, loc))
		}
		if len(row.Adjustments) > 0 {
			v.Adjusted++
		}
		for _, hm := range r.History {
			cell := views.HistoryCell{Label: "–", Class: "none", Title: hm.Start.Format("Jan 2006") + ": no data"}
			if hm.HasData {
				cell.Title = fmt.Sprintf("%s: %s against %s", hm.Start.Format("Jan 2006"), sliPct(hm.SLI, hm.Target), targetPct(hm.Target))
				cell.Label, cell.Class = "✕", "missed"
				if hm.Met {
					cell.Label, cell.Class = "✓", "met"
				}
			}
			row.History = append(row.History, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	h.render(c, http.StatusOK, views.ReportPage(h.page(c, "Report "+v.Label, "reports"), v))
}

// monthAdjustments are the changes made after the fact that moved each SLO's
// month, in its own zone: a target change in the month, maintenance added or
// removed once it had begun.
func (h *Handler) monthAdjustments(ctx context.Context, list []models.MonthReport) (map[int64][]models.Adjustment, error) {
	if len(list) == 0 {
		return nil, nil
	}
	details := make([]models.SLODetail, len(list))
	from, to := list[0].Month.Start, list[0].Month.End
	for i, r := range list {
		details[i] = r.SLODetail
		if r.Month.Start.Before(from) {
			from = r.Month.Start
		}
		if r.Month.End.After(to) {
			to = r.Month.End
		}
	}
	all, err := h.store.Adjustments(ctx, details, from, to)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		all[r.ID] = models.AdjustmentsIn(all[r.ID], r.Month.Start, r.Month.End)
	}
	return all, nil
}

// sortReport puts missed objectives first, then by name.
func sortReport(list []models.MonthReport) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && reportLess(list[j], list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

func reportLess(a, b models.MonthReport) bool {
	if a.Month.Met != b.Month.Met {
		return !a.Month.Met
	}
	return a.Title() < b.Title()
}

func (h *Handler) reportCSV(c *gin.Context, month time.Time, list []models.MonthReport, adjusted map[int64][]models.Adjustment, now time.Time) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="sitemetrics-%s.csv"`, month.Format("2006-01")))
	c.Header("Cache-Control", "no-store")
	w := csv.NewWriter(c.Writer)
	rows := [][]string{{"month", "slo", "service", "team", "window", "time_zone", "status", "target_percent", "attained_percent", "met",
		"good", "total", "budget_used_percent", "time_in_breach_minutes", "incidents", "adjustments"}}
	for _, r := range list {
		a := r.Month
		// A month without data is neither met nor missed: its met cell stays empty.
		attained, used, met := "", "", ""
		if a.HasData {
			attained = strconv.FormatFloat(a.SLI*100, 'f', 4, 64)
			used = strconv.FormatFloat(a.BudgetUsed*100, 'f', 2, 64)
			met = strconv.FormatBool(a.Met)
		}
		var incidents, adjustments []string
		for _, i := range r.Incidents {
			incidents = append(incidents, i.At.UTC().Format(time.RFC3339)+" "+i.Title)
		}
		for _, x := range adjusted[r.ID] {
			adjustments = append(adjustments, x.Made.UTC().Format(time.RFC3339)+" "+x.By+" "+x.Kind+": "+x.Why)
		}
		rows = append(rows, []string{month.Format("2006-01"), r.Name, r.Service.Name, r.Service.Team, r.WindowSpec, r.TimeZone,
			csvStatus(r, a, now), models.FormatPercent(a.Target), attained, met, strconv.FormatFloat(a.Good, 'f', -1, 64),
			strconv.FormatFloat(a.Total, 'f', -1, 64), used, strconv.FormatFloat(a.TimeInBreach.Minutes(), 'f', 0, 64),
			strings.Join(incidents, "; "), strings.Join(adjustments, "; ")})
	}
	// WriteAll flushes and returns the first write error. The status is sent
	// by then, so a failure (the client went away, a full buffer) can only
	// be logged; the client sees a cut file, not a complete-looking one.
	if err := w.WriteAll(rows); err != nil {
		h.log.WarnContext(c.Request.Context(), "write the CSV report", "month", month.Format("2006-01"), "rows", len(rows), "err", err)
		c.Abort()
	}
}

// csvStatus is the report row's status in the CSV: for the month in progress the SLO's
// status as every page shows it, for a closed month met, missed or no data; words joined
// with underscores (no_data, at_risk).
func csvStatus(r models.MonthReport, a models.MonthAttainment, now time.Time) string {
	st := string(r.Status)
	switch {
	case !a.HasData:
		st = "no_data"
	case !a.End.After(now) || st == "":
		st = map[bool]string{true: "met", false: "missed"}[a.Met]
	}
	return strings.ReplaceAll(st, " ", "_")
}
