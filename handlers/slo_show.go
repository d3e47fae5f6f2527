package handlers

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
	"github.com/sitemetrics/sitemetrics/views/charts"
)

// timeRange is the span a detail page's charts cover.
type timeRange struct {
	key, label string
	from, to   time.Time
}

func rangesFor(w models.Window, r models.SLOReport, now time.Time) []timeRange {
	win := timeRange{key: "window", label: "This window", from: r.Eval.PeriodStart, to: r.Eval.PeriodEnd}
	if !w.Calendar() {
		win.label, win.to = fmt.Sprintf("Last %d days", w.Days()), now
	}
	return []timeRange{win,
		{key: "7d", label: "Last 7 days", from: now.Add(-7 * 24 * time.Hour), to: now},
		{key: "24h", label: "Last 24 hours", from: now.Add(-24 * time.Hour), to: now}}
}

// showSLO: the three numbers, the burn-down and everything that explains it.
func (h *Handler) showSLO(c *gin.Context) {
	ctx := c.Request.Context()
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	now := h.now()
	r, err := h.store.Report(ctx, id, now)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc := h.location(c)
	e, w := r.Eval, r.Window()
	p := h.page(c, r.Title(), "overview")
	v := views.SLODetailView{ID: r.ID, Name: r.Title(), Description: r.Description, Service: r.Service.Name, Team: r.Service.Team,
		Window: w.String(), Status: string(e.Status), StatusClass: statusClass(e.Status), Stale: e.Stale, LowTraffic: e.LowTraffic && e.HasData,
		DataAge: dataAge(r, now), Objective: targetPct(e.Target), Overspent: e.Remaining < 0, NoData: r.LastDataAt == nil,
		FeedName: r.Feed.Name, FeedHref: "/feeds/" + strconv.FormatInt(r.Feed.ID, 10), SeriesField: r.Feed.SeriesField,
		Series: r.Binding.Series, CanEdit: p.User != nil && p.User.CanEdit}
	v.ObjectiveNote = objectiveNote(r)
	v.SLI, v.SLINote = "—", "no events in the window yet"
	if e.HasData {
		v.SLI = sliPct(e.SLI, e.Target)
		v.SLINote = sliNote(r)
	}
	v.Remaining, v.RemainingNote = "—", "no events in the window yet"
	if e.HasData {
		v.Remaining, v.RemainingNote = pct(e.Remaining), remainingNote(r, now, loc)
	}
	if e.Excluded > 0 {
		v.Excluded = fmt.Sprintf("%s row(s) of this window could not be counted (more good than total events, or a value out of range); "+
			"they are left out of every number. The feed's delivery log shows such rows as rejected when they arrive after the SLO.", views.Count(e.Excluded))
	}
	if r.Rederiving != nil {
		v.Rederiving = "Recomputing this SLO's history after a change: " + views.Percent(float64(r.Rederiving.Percent())/100, 0) +
			" done. The numbers shown are the previous ones until it finishes."
	}

	ranges := rangesFor(w, r, now)
	sel := ranges[0]
	for _, tr := range ranges {
		if tr.key == c.Query("range") {
			sel = tr
		}
		v.Ranges = append(v.Ranges, views.RangeLink{Label: tr.label, Href: fmt.Sprintf("/slos/%d?range=%s", r.ID, tr.key), Active: false})
	}
	for i := range v.Ranges {
		v.Ranges[i].Active = ranges[i].key == sel.key
	}
	if err := h.sloCharts(c, &v, r, sel, now, loc); err != nil {
		h.fail(c, err)
		return
	}
	for _, t := range e.Tiers {
		row := views.TierRow{Name: t.Name, Severity: string(t.Severity), Factor: burn(t.Factor), Long: span(t.Long), Short: span(t.Short),
			LongRate: "—", ShortRate: "—", Firing: t.Firing}
		if t.LongHasData {
			row.LongRate = burn(t.LongRate)
		}
		if t.ShortHasData {
			row.ShortRate = burn(t.ShortRate)
		}
		v.Tiers = append(v.Tiers, row)
	}
	for _, t := range r.Targets {
		from := views.DateTime(t.EffectiveFrom, now, loc)
		if t.EffectiveFrom.Unix() <= 0 {
			from = "the beginning"
		}
		v.Targets = append(v.Targets, views.TargetRow{Target: targetPct(t.Target), From: from, By: t.CreatedBy})
	}
	if err := h.recentSamples(c, &v, r, now, loc); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, views.SLODetailPage(p, v))
}

func objectiveNote(r models.SLOReport) string {
	w := r.Window()
	what := "of events good"
	if r.Binding.Indicator == models.IndicatorThreshold {
		what = fmt.Sprintf("of %s slices with %s %s %s", span(r.Feed.Interval()), r.Binding.ValueField, opWord(r.Binding.Op), views.Value(r.Binding.Threshold))
	}
	if w.Calendar() {
		return what + ", per " + w.String()
	}
	return fmt.Sprintf("%s, over the last %d days", what, w.Days())
}

func opWord(op string) string {
	return map[string]string{"lte": "≤", "lt": "<", "gte": "≥", "gt": ">"}[op]
}

func sliNote(r models.SLOReport) string {
	e := r.Eval
	if r.Binding.Indicator == models.IndicatorThreshold {
		return fmt.Sprintf("%s of %s slices good", views.Count(e.Good), views.Count(e.Total))
	}
	return fmt.Sprintf("%s of %s events good", views.Count(e.Good), views.Count(e.Total))
}

func remainingNote(r models.SLOReport, now time.Time, loc *time.Location) string {
	e := r.Eval
	var b strings.Builder
	if r.Binding.Indicator == models.IndicatorThreshold {
		fmt.Fprintf(&b, "%s of %s bad time allowed used", span(e.BadTime), span(e.AllowedBadTime))
	} else {
		fmt.Fprintf(&b, "%s of %s bad events allowed", views.Count(e.Bad), views.Count(e.AllowedBad))
	}
	switch {
	case e.Remaining <= 0:
		b.WriteString(" · overspent")
	case e.ExhaustsAt != nil:
		fmt.Fprintf(&b, " · runs out %s at the current burn rate", views.DateTime(*e.ExhaustsAt, now, loc))
	case e.BurnRateHasData:
		b.WriteString(" · on track to last the window")
	}
	return b.String()
}

// sloCharts builds the burn-down, SLI and latency charts for the range. They
// depend only on the evaluation (r.At), the range and the viewer's zone, so
// their rendering is kept and shared while the evaluation is served.
func (h *Handler) sloCharts(c *gin.Context, v *views.SLODetailView, r models.SLOReport, tr timeRange, now time.Time, loc *time.Location) error {
	key := fmt.Sprintf("%d/%s/%d/%s/%d", r.ID, tr.key, r.At.UnixNano(), loc, r.UpdatedAt.UnixNano())
	if html, ok := h.chartCache.get(key); ok {
		v.Charts = templ.Raw(html)
		return nil
	}
	comp, err := h.buildCharts(c, r, tr, now, loc)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		return err
	}
	h.chartCache.put(key, buf.String())
	v.Charts = templ.Raw(buf.String())
	return nil
}

func (h *Handler) buildCharts(c *gin.Context, r models.SLOReport, tr timeRange, now time.Time, loc *time.Location) (templ.Component, error) {
	ctx := c.Request.Context()
	data, err := h.store.Charts(ctx, r, tr.from, tr.to)
	if err != nil {
		return nil, err
	}
	anns, err := h.store.AnnotationsFor(ctx, r.SLODetail, tr.from, tr.to)
	if err != nil {
		return nil, err
	}
	obj := r.Objective(r.Eval.End)
	var cmaint []charts.Span
	for _, m := range data.Maintenance {
		if m.EndsAt.After(tr.from) && m.StartsAt.Before(tr.to) {
			cmaint = append(cmaint, charts.Span{Start: m.StartsAt, End: m.EndsAt, Label: "Maintenance: " + m.Reason})
		}
	}
	var cann []charts.Annotation
	for _, a := range anns {
		cann = append(cann, charts.Annotation{T: a.At, Kind: a.Kind, Label: a.Title})
	}
	adjusted, err := h.adjustmentMarks(ctx, r.SLODetail, tr.from, tr.to, now, loc)
	if err != nil {
		return nil, err
	}
	cann = append(cann, adjusted...)
	budget := make([]charts.Point, len(data.Budget))
	sli := make([]charts.Point, 0, len(data.Budget))
	for i, b := range data.Budget {
		budget[i] = charts.Point{T: b.At, V: b.Remaining, NoData: !b.HasData}
		if b.HasData {
			sli = append(sli, charts.Point{T: b.At, V: b.SLI})
		}
	}
	e := r.Eval
	in := charts.BurnDownInput{ID: "burndown", Title: "Error budget left — " + tr.label, Summary: budgetSummary(r, now, loc),
		Location: loc, Start: tr.from, End: tr.to, Now: e.End, Points: budget, Ideal: obj.Window.Calendar() && tr.key == "window",
		Maintenance: cmaint, Annotations: cann}
	if e.ExhaustsAt != nil {
		in.Exhaustion = *e.ExhaustsAt
	}
	burnDown := charts.NewBurnDown(in)
	sliSummary := "No events in this range."
	if e.HasData {
		sliSummary = fmt.Sprintf("SLI %s against a target of %s.", sliPct(e.SLI, e.Target), targetPct(e.Target))
	}
	sliChart := charts.NewSLI(charts.SLIInput{ID: "sli", Title: "SLI over the window — " + tr.label, Summary: sliSummary,
		Location: loc, Start: tr.from, End: tr.to, Now: e.End, Points: sli, Target: e.Target, Maintenance: cmaint, Annotations: cann})
	var latency *charts.Latency
	if fields := r.Latency(); len(fields) > 0 {
		latency = latencyChart(r, fields, data, tr, loc, cmaint, cann)
	}
	return views.SLOCharts(burnDown, sliChart, latency), nil
}

// chartCache keeps rendered chart fragments, a few hundred at most.
type chartCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *chartCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok
}

func (c *chartCache) put(key, html string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 600 {
		c.m = map[string]string{}
	}
	c.m[key] = html
}

func spansFrom(m []models.Maintenance) []models.Span {
	out := make([]models.Span, len(m))
	for i, x := range m {
		out[i] = models.Span{Start: x.StartsAt, End: x.EndsAt}
	}
	return out
}

// budgetSummary states the burn-down's conclusion for the chart's <desc>.
func budgetSummary(r models.SLOReport, now time.Time, loc *time.Location) string {
	e := r.Eval
	switch {
	case !e.HasData:
		return "No data in this window yet."
	case e.Remaining <= 0:
		return fmt.Sprintf("Budget overspent: %s left (%s of it used).", pct(e.Remaining), pct(e.Consumed))
	case e.ExhaustsAt != nil:
		return fmt.Sprintf("Budget %s left; at the current burn rate it runs out %s.", pct(e.Remaining), when(e.ExhaustsAt, now, loc))
	default:
		return fmt.Sprintf("Budget %s left, on track to last the window.", pct(e.Remaining))
	}
}

// latencyChart maps the SLO's latency fields onto p50/p95/p99 by their names
// (or in the order given).
func latencyChart(r models.SLOReport, fields []string, data models.ChartData, tr timeRange, loc *time.Location,
	maint []charts.Span, anns []charts.Annotation) *charts.Latency {
	slots := [3][]charts.Point{}
	slotOf := make([]int, len(fields))
	used := map[int]bool{}
	for i, f := range fields {
		slotOf[i] = -1
		for s, tag := range []string{"50", "95", "99"} {
			if strings.Contains(f, tag) && !used[s] {
				slotOf[i], used[s] = s, true
				break
			}
		}
	}
	for i := range fields {
		for s := 0; slotOf[i] < 0 && s < 3; s++ {
			if !used[s] {
				slotOf[i], used[s] = s, true
			}
		}
	}
	for _, lp := range data.Latency {
		for i := range fields {
			if lp.Has[i] && slotOf[i] >= 0 {
				slots[slotOf[i]] = append(slots[slotOf[i]], charts.Point{T: lp.At, V: lp.Values[i]})
			}
		}
	}
	in := charts.LatencyInput{ID: "latency", Title: "Latency — " + tr.label, Location: loc, Start: tr.from, End: tr.to, Now: r.Eval.End,
		P50: slots[0], P95: slots[1], P99: slots[2], Maintenance: maint, Annotations: anns}
	b := r.Binding
	if b.Indicator == models.IndicatorThreshold {
		for i, f := range fields {
			if f == b.ValueField && slotOf[i] >= 0 {
				in.Threshold, in.ThresholdOf = b.Threshold, []string{"p50", "p95", "p99"}[slotOf[i]]
				in.ThresholdLabel = fmt.Sprintf("SLO %s %s %s ms", f, opWord(b.Op), views.Value(b.Threshold))
			}
		}
	}
	in.Summary = latencySummary(r, data.LatencyStats)
	c := charts.NewLatency(in)
	return &c
}

// latencySummary states the newest value and, for the field the SLO judges, how many
// samples missed the threshold, counted over every sample of the range (the chart
// draws a thinned series, the sentence must agree with the SLI).
func latencySummary(r models.SLOReport, stats []models.LatencyStat) string {
	var newest *models.LatencyStat
	for i := range stats {
		st := &stats[i]
		if st.Samples > 0 && (newest == nil || strings.Contains(st.Field, "99")) {
			newest = st
		}
	}
	if newest == nil {
		return "No latency data in this range."
	}
	s := fmt.Sprintf("Latest %s %s ms.", newest.Field, views.Value(math.Round(newest.Latest*10)/10))
	b := r.Binding
	for _, st := range stats {
		if b.Indicator == models.IndicatorThreshold && st.Field == b.ValueField {
			s += fmt.Sprintf(" %s missed the %s %s ms threshold in %s of %s samples.", st.Field, opWord(b.Op),
				views.Value(b.Threshold), views.Count(float64(st.Over)), views.Count(float64(st.Samples)))
		}
	}
	return s
}

// recentSamples lists the last rows Splunk sent for the SLO's series.
func (h *Handler) recentSamples(c *gin.Context, v *views.SLODetailView, r models.SLOReport, now time.Time, loc *time.Location) error {
	series := r.Binding.Series
	samples, err := h.store.Samples(c.Request.Context(), r.Feed.ID, models.SampleQuery{Series: &series, Newest: true, Limit: 12})
	if err != nil {
		return err
	}
	fields := append(r.Binding.Fields(), r.Latency()...)
	seen := map[string]bool{}
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			v.SampleFields = append(v.SampleFields, f)
		}
	}
	sort.SliceStable(samples, func(i, j int) bool { return samples[i].Time.After(samples[j].Time) })
	for _, s := range samples {
		row := views.SampleRow{Time: views.RowTime(s.Time, now, loc), SID: s.SID}
		if strings.HasPrefix(s.ResultsLink, "https://") || strings.HasPrefix(s.ResultsLink, "http://") {
			row.Link = s.ResultsLink
		}
		for _, f := range v.SampleFields {
			if x, ok := s.Fields[f]; ok {
				row.Values = append(row.Values, views.Value(x))
			} else {
				row.Values = append(row.Values, "—")
			}
		}
		v.Samples = append(v.Samples, row)
	}
	return nil
}
