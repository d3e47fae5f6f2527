package main

// The peer-parity data set and the reference arithmetic that judges the app.
//
// The generator makes 30 days of 5-minute buckets (good and total events) for a few series,
// from a fixed seed and shaped relative to the data's end, so every run sees the same
// numbers shifted in time. Each bucket's events are also spread over its five minutes for
// the Prometheus side (parity_prometheus_test.go).
//
// The reference is written from SPEC §5 alone ("Windows end at data time", the burn-rate
// tiers, the budget formula) and shares no code with models: it is what the app must equal.

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

const (
	parityInterval      = 5 * time.Minute     // the feed's interval and the generator's bucket
	paritySLOWindow     = 30 * 24 * time.Hour // a 30-day rolling ratio SLO
	parityBuckets       = int(paritySLOWindow / parityInterval)
	paritySample        = time.Minute // spacing of the counter samples written for Prometheus
	parityTarget        = 0.995       // 99.5 %
	parityTargetPercent = "99.5"
)

// parityTier is one tier of the SRE Workbook's preset for a 30-day window (SPEC §5), written
// out here rather than taken from models so that the reference cannot inherit a mistake.
type parityTier struct {
	name        string
	page        bool
	factor      float64
	long, short time.Duration
}

func parityTiers() []parityTier {
	return []parityTier{
		{"page 14.4×", true, 14.4, time.Hour, 5 * time.Minute},
		{"page 6×", true, 6, 6 * time.Hour, 30 * time.Minute},
		{"ticket 3×", false, 3, 24 * time.Hour, 2 * time.Hour},
		{"ticket 1×", false, 1, 72 * time.Hour, 6 * time.Hour},
	}
}

// parityIncident raises the error ratio of the buckets that start in [end−from, end−to).
type parityIncident struct {
	what     string
	from, to time.Duration
	ratio    float64
}

type parityShape struct {
	name      string
	low, high float64 // events per bucket at the daily trough and peak
	base      float64 // background error ratio
	incidents []parityIncident
}

const parityDay = 24 * time.Hour

// parityShapes are the series. The margins to each tier's threshold are a few percent or
// more at the data's end, so float noise cannot decide a tier (checkParityShapes holds the
// data set to what is promised here).
func parityShapes() []parityShape {
	return []parityShape{
		{name: "checkout", low: 2000, high: 5000, base: 0.0005, incidents: []parityIncident{
			// Short and sharp, still going: 14.4× page (1h and 5m) fires at the end.
			{"sharp, the last 40 minutes", 40 * time.Minute, 0, 0.20},
			// The oldest bucket: inside the 30-day window by the whole-bucket rule, and
			// inside Prometheus's closed [t−30d, t] range.
			{"the oldest bucket", paritySLOWindow, paritySLOWindow - parityInterval, 0.40},
			// Leaves the 3-day window during the last 6 hours: aged out at the end.
			{"3 days 2 hours ago, 2 hours", 3*parityDay + 4*time.Hour, 3*parityDay + 2*time.Hour, 0.10},
			{"10 days ago, 3 hours", 10*parityDay + 3*time.Hour, 10 * parityDay, 0.06},
		}},
		{name: "search", low: 1500, high: 4000, base: 0.0005, incidents: []parityIncident{
			// Medium: the 6× page (6h and 30m) fires during its last hour and a half, never
			// 14.4×; at the end only its 6-hour window still shows it.
			{"medium, 7 to 2 hours ago", 7 * time.Hour, 2 * time.Hour, 0.05},
			{"20 days ago, 1 hour", 20*parityDay + time.Hour, 20 * parityDay, 0.20},
		}},
		{name: "payments", low: 1000, high: 3000, base: 0.0005, incidents: []parityIncident{
			// Slow burn: both ticket tiers fire at the end, no page.
			{"slow burn, the last 26 hours", 26 * time.Hour, 0, 0.022},
			{"5 days ago, 1 hour", 5*parityDay + time.Hour, 5 * parityDay, 0.30},
		}},
		// Quiet: background errors only, lower traffic.
		{name: "static", low: 1000, high: 1500, base: 0.0002},
	}
}

// paritySeries is one series: per bucket (oldest first) and per minute.
type paritySeries struct {
	name        string
	good, total []int64 // per bucket; bucket k covers [start + k·interval, +interval)
	// cumBad[m] and cumTotal[m] are the events in the first m minutes: the counters'
	// values at start + m minutes.
	cumBad, cumTotal []int64
}

type parityData struct {
	start, end time.Time // the oldest bucket's start; the newest bucket's end
	series     []*paritySeries
}

// generateParity makes the data set ending at end (a multiple of the interval).
func generateParity(end time.Time) parityData {
	rng := rand.New(rand.NewPCG(20261203, 11))
	d := parityData{start: end.Add(-paritySLOWindow), end: end}
	perBucket := int(parityInterval / paritySample)
	for _, sh := range parityShapes() {
		s := &paritySeries{name: sh.name, good: make([]int64, parityBuckets), total: make([]int64, parityBuckets),
			cumBad: make([]int64, 1, parityBuckets*perBucket+1), cumTotal: make([]int64, 1, parityBuckets*perBucket+1)}
		for k := range parityBuckets {
			at := d.start.Add(time.Duration(k) * parityInterval)
			ago := end.Sub(at)
			// Daily traffic, peaking in the buckets that start 9 hours (mod 24) before the end, ±10 % noise.
			phase := 2 * math.Pi * float64(ago%parityDay) / float64(parityDay)
			total := sh.low + (sh.high-sh.low)*(0.5+0.5*math.Cos(phase-0.75*math.Pi))
			total = math.Round(min(sh.high, max(sh.low, total*(0.9+0.2*rng.Float64()))))
			ratio := sh.base
			for _, inc := range sh.incidents {
				if !at.Before(end.Add(-inc.from)) && at.Before(end.Add(-inc.to)) {
					ratio = inc.ratio
				}
			}
			// ±20 % around the ratio, rounded up or down at random so small ratios still
			// give some errors.
			bad := math.Floor(total*ratio*(0.8+0.4*rng.Float64()) + rng.Float64())
			bad = min(bad, total)
			s.total[k], s.good[k] = int64(total), int64(total-bad)
			// Spread the bucket's events over its minutes, as evenly as integers allow; the
			// counters reach the bucket's cumulative value at its end. bad ≤ total per
			// minute too: floor(b/5) ≤ floor(t/5), and equal quotients mean b%5 ≤ t%5.
			for m := range perBucket {
				bm := int64(bad)/int64(perBucket) + b2i(int64(m) < int64(bad)%int64(perBucket))
				tm := int64(total)/int64(perBucket) + b2i(int64(m) < int64(total)%int64(perBucket))
				s.cumBad = append(s.cumBad, s.cumBad[len(s.cumBad)-1]+bm)
				s.cumTotal = append(s.cumTotal, s.cumTotal[len(s.cumTotal)-1]+tm)
			}
		}
		d.series = append(d.series, s)
	}
	return d
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// --- The reference: SPEC §5 from the buckets. ---

// parityLabels is what the app stores for one series of one feed: each bucket under its
// label, the row's time floored to the interval (the bucket's start, or its end for rows
// stamped at the end), in order, with prefix sums.
type parityLabels struct {
	at             []time.Time
	cumBad, cumTot []float64 // over at[:i]
}

// labelled returns s's buckets as a feed with the given stamping delivers them, keeping only
// those delivered by now (a row is not sent before its bucket ends).
func (s *paritySeries) labelled(d parityData, stampAtEnd bool, deliveredBy time.Time) parityLabels {
	var l parityLabels
	l.cumBad, l.cumTot = []float64{0}, []float64{0}
	for k := range s.total {
		start := d.start.Add(time.Duration(k) * parityInterval)
		if start.Add(parityInterval).After(deliveredBy) {
			break
		}
		label := start
		if stampAtEnd {
			label = start.Add(parityInterval)
		}
		l.at = append(l.at, label)
		l.cumBad = append(l.cumBad, l.cumBad[len(l.cumBad)-1]+float64(s.total[k]-s.good[k]))
		l.cumTot = append(l.cumTot, l.cumTot[len(l.cumTot)-1]+float64(s.total[k]))
	}
	return l
}

// windowEnd is where every lookback ends (SPEC §5 "Windows end at data time"): the end of
// the newest bucket, never later than now, and now once the feed is stale.
func (l parityLabels) windowEnd(now time.Time, stale bool) time.Time {
	if len(l.at) == 0 || stale {
		return now
	}
	if end := l.at[len(l.at)-1].Add(parityInterval); end.Before(now) {
		return end
	}
	return now
}

// staleness says whether the feed is stale at now, "no bucket for more than 2 intervals",
// read both ways: since the newest bucket ended (a start-stamped feed delivered on time is
// never stale) and since its label (a start-stamped feed goes stale just before each on-time
// delivery, the flip issue 11 describes). Stale by the first reading is stale by the second.
func (l parityLabels) staleness(now time.Time) (sinceEnd, sinceLabel bool) {
	if len(l.at) == 0 {
		return false, false
	}
	newest := l.at[len(l.at)-1]
	return now.Sub(newest.Add(parityInterval)) > 2*parityInterval, now.Sub(newest) > 2*parityInterval
}

// sums are the bad and total events of the buckets whose label lies in [end−length, end):
// whole buckets, so a window of n intervals holds n buckets.
func (l parityLabels) sums(end time.Time, length time.Duration) (bad, total float64) {
	length = max(length, parityInterval)
	i := sort.Search(len(l.at), func(i int) bool { return !l.at[i].Before(end.Add(-length)) })
	j := sort.Search(len(l.at), func(i int) bool { return !l.at[i].Before(end) })
	return l.cumBad[j] - l.cumBad[i], l.cumTot[j] - l.cumTot[i]
}

type refTier struct {
	parityTier
	longRate, shortRate float64
	longOK, shortOK     bool // the window holds events
	firing              bool
}

type refEval struct {
	end             time.Time
	bad, total      float64
	sli, remaining  float64
	tiers           []refTier
	pageTiersFiring int
}

// burnRate is (bad / total) / (1 − target); ok is false for an empty window.
func burnRate(bad, total float64) (float64, bool) {
	if total <= 0 {
		return 0, false
	}
	return (bad / total) / (1 - parityTarget), true
}

// evaluate applies SPEC §5 at now, for a feed that is stale or not: the SLI and budget over
// the 30-day window and every tier.
func (l parityLabels) evaluate(now time.Time, stale bool) refEval {
	e := refEval{end: l.windowEnd(now, stale)}
	e.bad, e.total = l.sums(e.end, paritySLOWindow)
	if e.total > 0 {
		e.sli = (e.total - e.bad) / e.total
		e.remaining = 1 - e.bad/((1-parityTarget)*e.total)
	}
	for _, t := range parityTiers() {
		rt := refTier{parityTier: t}
		rt.longRate, rt.longOK = burnRate(l.sums(e.end, t.long))
		rt.shortRate, rt.shortOK = burnRate(l.sums(e.end, t.short))
		rt.firing = rt.longOK && rt.shortOK && rt.longRate > t.factor && rt.shortRate > t.factor
		if rt.firing && t.page {
			e.pageTiersFiring++
		}
		e.tiers = append(e.tiers, rt)
	}
	return e
}

// --- What Prometheus can see of the same events (the counters, sampled every minute). ---

// minuteIndex is the counter sample at t, which must lie on the sample grid.
func (d parityData) minuteIndex(t time.Time) int {
	return int(t.Sub(d.start) / paritySample)
}

// events are the counters' increase between two samples.
func (s *paritySeries) events(i, j int) (bad, total float64) {
	return float64(s.cumBad[j] - s.cumBad[i]), float64(s.cumTotal[j] - s.cumTotal[i])
}

// promRatio bounds the error ratio that sum(rate(errors[L])) / sum(rate(total[L])) (or the
// same with increase) gives at t, a sample time, over these counters. ok is false when the
// range holds fewer than two samples (Prometheus returns nothing).
//
// Prometheus 2.x selects the closed range [t−L, t]: samples sit on both ends, or the first
// is the counters' first sample (value 0, where extrapolation stops at zero), so rate()
// extrapolates nothing and the ratio is exactly that of the window's events: lo = hi.
// Prometheus 3.x selects (t−L, t]: the first sample is one spacing δ after t−L, and rate()
// scales each counter's increase over the remaining S = L−δ by a factor in [1, (S+δ)/S]
// (less where a counter would cross zero), so the ratio is the one over (t−L+δ, t] times a
// factor in [S/(S+δ), (S+δ)/S].
func (d parityData) promRatio(s *paritySeries, t time.Time, length time.Duration, leftOpen bool) (lo, hi float64, ok bool) {
	last := d.minuteIndex(t)
	first := d.minuteIndex(t.Add(-length))
	scaled := leftOpen && first >= 0
	if leftOpen {
		first++
	}
	first = max(first, 0)
	if last-first < 1 {
		return 0, 0, false
	}
	bad, total := s.events(first, last)
	r := bad / total
	if !scaled {
		return r, r, true
	}
	sampled := float64(last - first)
	return r * sampled / (sampled + 1), r * (sampled + 1) / sampled, true
}

// slothPeriodRatio bounds Sloth's 30-day error ratio at t: the unweighted mean, over the
// 1-minute steps of the last 30 days that have a value, of the 5-minute ratio.
func (d parityData) slothPeriodRatio(s *paritySeries, t time.Time, leftOpen bool) (lo, hi float64) {
	n := 0
	for step := t.Add(-paritySLOWindow); !step.After(t); step = step.Add(paritySample) {
		l, h, ok := d.promRatio(s, step, 5*time.Minute, leftOpen)
		if !ok {
			continue
		}
		lo, hi, n = lo+l, hi+h, n+1
	}
	return lo / float64(n), hi / float64(n)
}
