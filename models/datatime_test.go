package models

import (
	"testing"
	"time"
)

func TestDataTimeOf(t *testing.T) {
	at := func(s string) time.Time { return mustUTC(t, "2026-04-10T"+s+"Z") }
	five := 5 * time.Minute
	tests := []struct {
		name       string
		lastBucket time.Time
		now        time.Time
		want       DataTime
	}{
		// Rows stamped at the bucket's start: the 10:00 bucket arrives at 10:05:10.
		{"start-stamped, just delivered", at("10:00:00"), at("10:05:10"), DataTime{End: at("10:05:00"), Last: at("10:05:00")}},
		// Rows stamped at the bucket's end: 10:05 names the 10:00–10:05 data, its bucket ends at 10:10.
		{"end-stamped, just delivered", at("10:05:00"), at("10:05:10"), DataTime{End: at("10:10:00"), Last: at("10:10:00")}},
		// Exactly 2 × interval after the newest bucket ended is not late yet.
		{"late by exactly twice the interval", at("10:00:00"), at("10:15:00"), DataTime{End: at("10:05:00"), Last: at("10:05:00")}},
		// One second more is stale: windows end at now, on a bucket boundary.
		{"stale", at("10:00:00"), at("10:15:01"), DataTime{End: at("10:15:00"), Last: at("10:05:00"), Stale: true}},
		{"never delivered", time.Time{}, at("10:07:30"), DataTime{End: at("10:05:00")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DataTimeOf(tc.lastBucket, five, tc.now); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// On a 5-minute feed the 5-minute page window holds exactly the newest bucket, whichever
// way Splunk stamps its rows, so an incident in the newest bucket fires the page tier.
func TestShortWindowHoldsTheNewestBucket(t *testing.T) {
	obj := Objective{Indicator: IndicatorRatio, Target: 0.999, Window: mustSLOWindow(t, "30d", ""), Interval: 5 * time.Minute}
	now := mustUTC(t, "2026-04-10T10:05:10Z")
	for _, tc := range []struct {
		name   string
		offset time.Duration // where rows are stamped within their 5 minutes of data
	}{{"stamped at the bucket's start", 0}, {"stamped at the bucket's end", 5 * time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			// Data for [09:00, 10:05): clean, then the last 12 buckets (one hour) all bad.
			var pts []Point
			var newest time.Time
			for at := mustUTC(t, "2026-04-09T10:05:00Z"); at.Before(mustUTC(t, "2026-04-10T10:05:00Z")); at = at.Add(5 * time.Minute) {
				bad := 0.0
				if !at.Before(mustUTC(t, "2026-04-10T09:05:00Z")) {
					bad = 20
				}
				bucket := at.Add(tc.offset).Truncate(5 * time.Minute)
				pts = append(pts, Point{At: bucket, Good: 1000 - bad, Total: 1000})
				newest = bucket
			}
			dt := DataTimeOf(newest, obj.Interval, now)
			e := Evaluate(obj, pts, nil, dt, now)
			q := e.Tiers[0] // page quick: 1 h and 5 m, 14.4×
			// Both windows hold only incident buckets: 20/1000 / 0.001 = 20× (a day allows 288 bad of
			// 288,000; 240 are spent, so not breached).
			if !q.Firing || !near(q.ShortRate, 20, 1e-9) || !near(q.LongRate, 20, 1e-9) || e.Status != StatusAtRisk {
				t.Errorf("end %s: page quick %+v, status %s", dt.End.Format(time.TimeOnly), q, e.Status)
			}
		})
	}
}
