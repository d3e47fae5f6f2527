package handlers

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
	"github.com/sitemetrics/sitemetrics/views/charts"
)

var statusOrder = []models.SLOStatus{models.StatusBreached, models.StatusAtRisk, models.StatusNoData, models.StatusStale, models.StatusHealthy}

// showOverview: every SLO grouped by service or team, worst first.
func (h *Handler) showOverview(c *gin.Context) {
	now := h.now()
	reports, err := h.store.Reports(c.Request.Context(), now)
	if err != nil && (models.ErrorCode(err) != models.EUNAVAILABLE || reports == nil) {
		h.fail(c, err)
		return
	}
	p := h.page(c, "Overview", "overview")
	status := http.StatusOK
	if err != nil {
		// During an outage: the last numbers known, said to be so, and 503 for machines.
		status = http.StatusServiceUnavailable
		p.Flash = &views.Flash{Kind: "error", Text: "Sitemetrics cannot reach its database: these are the last numbers it had; they will update when it is back."}
	}
	canEdit := p.User != nil && p.User.CanEdit
	shared, err := h.overviews.get(overviewKey{numbers: numbersKey(reports), query: c.Request.URL.RawQuery, canEdit: canEdit,
		tick: now.Unix() / overviewTick}, func() templ.Component {
		return views.OverviewContent(h.overview(c, reports, now, canEdit))
	})
	if err != nil {
		// Drawn again as part of the page, whose renderer reports the error.
		h.render(c, status, views.OverviewWith(p, views.OverviewContent(h.overview(c, reports, now, canEdit))))
		return
	}
	h.renderShared(c, status, func(content templ.Component) templ.Component { return views.OverviewWith(p, content) }, shared)
}

// overview is the overview's view model.
func (h *Handler) overview(c *gin.Context, reports []models.SLOReport, now time.Time, canEdit bool) views.OverviewView {
	v := views.OverviewView{GroupBy: "service", Team: c.Query("team"), Status: c.Query("status"), NoSLOs: len(reports) == 0,
		CanEdit: canEdit}
	if c.Query("group") == "team" {
		v.GroupBy = "team"
	}
	v.Filtered = v.Team != "" || v.Status != "" || v.GroupBy != "service"
	for _, s := range statusOrder {
		v.Statuses = append(v.Statuses, string(s))
	}
	teams := map[string]bool{}
	reports = slices.Clone(reports)
	sortWorstFirst(reports)
	groups := map[string]*views.OverviewGroup{}
	var order []string
	v.Meeting, v.Total, v.Unjudged = models.Meeting(reports)
	for _, r := range reports {
		if r.Service.Team != "" {
			teams[r.Service.Team] = true
		}
		if (v.Team != "" && r.Service.Team != v.Team) || (v.Status != "" && string(r.Eval.Status) != v.Status) {
			continue
		}
		key, note := r.Service.Name, teamTier(r.Service)
		if v.GroupBy == "team" {
			key, note = r.Service.Team, ""
			if key == "" {
				key = "No team"
			}
		}
		g := groups[key]
		if g == nil {
			g = &views.OverviewGroup{Name: key, Note: note}
			groups[key] = g
			order = append(order, key)
		}
		g.Rows = append(g.Rows, h.rows.get(r, now.Unix()/overviewTick, func() views.OverviewRow { return h.overviewRow(c.Request.Context(), r, now) }))
	}
	h.rows.forgetExcept(reports)
	for t := range teams {
		v.Teams = append(v.Teams, t)
	}
	sort.Strings(v.Teams)
	for _, k := range order {
		v.Groups = append(v.Groups, *groups[k])
	}
	return v
}

// overviewTick is how long, in seconds, a drawn overview may be shown unchanged: only
// its "updated N min ago" texts move with the clock.
const overviewTick = 10

type overviewKey struct {
	numbers [32]byte // every SLO's summary (numbersKey)
	query   string
	canEdit bool
	tick    int64
}

// sortWorstFirst orders reports by status, then by budget left.
func sortWorstFirst(rs []models.SLOReport) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].Eval, rs[j].Eval
		if a.Status.Rank() != b.Status.Rank() {
			return a.Status.Rank() > b.Status.Rank() // higher rank is worse
		}
		return a.Remaining < b.Remaining
	})
}

func teamTier(s models.Service) string {
	switch {
	case s.Team != "" && s.Tier != "":
		return s.Team + " · tier " + s.Tier
	case s.Team != "":
		return s.Team
	case s.Tier != "":
		return "tier " + s.Tier
	}
	return ""
}

func (h *Handler) overviewRow(ctx context.Context, r models.SLOReport, now time.Time) views.OverviewRow {
	e := r.Eval
	row := views.OverviewRow{ID: r.ID, Name: r.Title(), Service: r.Service.Name, Team: r.Service.Team,
		Status: string(e.Status), StatusClass: statusClass(e.Status), Remaining: pct(e.Remaining), Overspent: e.Remaining < 0,
		SLI: "—", Target: targetPct(e.Target), Window: r.Window().String(), Burn: "—", LowTraffic: e.LowTraffic && e.HasData,
		DataAge: dataAge(r, now), Stale: e.Stale}
	if e.HasData {
		row.SLI = sliPct(e.SLI, e.Target)
	} else {
		row.Remaining = "—"
	}
	if e.FastestBurnRate > 0 {
		row.Burn = burn(e.FastestBurnRate)
		row.BurnHot = e.FastestBurnRate >= 1
	}
	if r.Rederiving != nil {
		row.Rederiving = "recomputing history " + views.Percent(float64(r.Rederiving.Percent())/100, 0)
	}
	row.Sparkline = h.sparklines.get(ctx, r, func() charts.Sparkline {
		pts := make([]charts.Point, len(r.Sparkline))
		for i, b := range r.Sparkline {
			pts[i] = charts.Point{T: b.At, V: b.Remaining, NoData: !b.HasData}
		}
		var from time.Time
		if len(r.Sparkline) > 0 {
			from = r.Sparkline[0].At
		}
		return charts.NewSparkline(charts.SparklineInput{ID: "spark-" + strconv.FormatInt(r.ID, 10),
			Title: r.Title() + ": error budget left", Summary: row.Remaining + " of the error budget left", Start: from, End: r.At, Points: pts})
	})
	return row
}
