package models

import (
	"errors"
	"testing"
	"time"
)

// Each case is one Splunk row read by one binding; the point is worked out by hand.
func TestBindingDeriveByBudgetingMethod(t *testing.T) {
	ratio := Binding{Indicator: IndicatorRatio, GoodField: "good", TotalField: "total"}
	ratioBad := Binding{Indicator: IndicatorRatio, BadField: "errors", TotalField: "total"}
	slices := ratio
	slices.Budgeting, slices.SliceTarget = BudgetTimeslices, 0.99
	slicesBad := ratioBad
	slicesBad.Budgeting, slicesBad.SliceTarget = BudgetTimeslices, 0.99
	latency := Binding{Indicator: IndicatorThreshold, ValueField: "p95_ms", Op: "lte", Threshold: 300}
	latencyEvents := latency
	latencyEvents.Budgeting = BudgetOccurrences

	tests := []struct {
		name        string
		b           Binding
		fields      map[string]float64
		good, total float64
		ok          bool
	}{
		{"ratio, occurrences: the row's events", ratio, map[string]float64{"good": 990, "total": 1000}, 990, 1000, true},
		{"ratio, occurrences: bad given, good = 1000 − 12", ratioBad, map[string]float64{"errors": 12, "total": 1000}, 988, 1000, true},
		{"ratio, occurrences: no total, no point", ratio, map[string]float64{"good": 1}, 0, 0, false},
		// 990/1000 = 0.99 meets 0.99: a good slice.
		{"ratio, timeslices: ratio equal to the slice target is good", slices, map[string]float64{"good": 990, "total": 1000}, 1, 1, true},
		// 989/1000 = 0.989 < 0.99: a bad slice, however many events it held.
		{"ratio, timeslices: ratio below the slice target is one bad slice", slices, map[string]float64{"good": 989, "total": 1000}, 0, 1, true},
		// (1000 − 11)/1000 = 0.989: bad.
		{"ratio, timeslices: bad field", slicesBad, map[string]float64{"errors": 11, "total": 1000}, 0, 1, true},
		{"ratio, timeslices: no events is a slice without data", slices, map[string]float64{"good": 0, "total": 0}, 0, 0, false},
		{"ratio, timeslices: good field missing", slices, map[string]float64{"total": 5}, 0, 0, false},
		{"threshold, timeslices: 300 ≤ 300 is a good slice", latency, map[string]float64{"p95_ms": 300}, 1, 1, true},
		{"threshold, timeslices: 301 > 300 is a bad slice", latency, map[string]float64{"p95_ms": 301}, 0, 1, true},
		{"threshold, occurrences: each sample is one good event", latencyEvents, map[string]float64{"p95_ms": 120}, 1, 1, true},
		{"threshold, occurrences: each sample is one bad event", latencyEvents, map[string]float64{"p95_ms": 900}, 0, 1, true},
	}
	for _, tc := range tests {
		good, total, ok := tc.b.Derive(FieldsOf(tc.fields))
		if good != tc.good || total != tc.total || ok != tc.ok {
			t.Errorf("%s: got (%v, %v, %v), want (%v, %v, %v)", tc.name, good, total, ok, tc.good, tc.total, tc.ok)
		}
	}
}

func TestBudgetingMethodDrivesTheMath(t *testing.T) {
	tests := []struct {
		name string
		b    Binding
		want Indicator
	}{
		{"ratio counts events", Binding{Indicator: IndicatorRatio}, IndicatorRatio},
		{"threshold counts time slices", Binding{Indicator: IndicatorThreshold}, IndicatorThreshold},
		{"ratio in time slices counts time", Binding{Indicator: IndicatorRatio, Budgeting: BudgetTimeslices}, IndicatorThreshold},
		{"threshold in occurrences counts events", Binding{Indicator: IndicatorThreshold, Budgeting: BudgetOccurrences}, IndicatorRatio},
	}
	for _, tc := range tests {
		d := SLODetail{SLO: SLO{WindowSpec: "28d", TimeZone: "UTC"}, Binding: tc.b, Feed: Feed{IntervalSeconds: 300}}
		if got := d.Objective(mustTime(t, "2026-03-01T00:00:00Z")).Indicator; got != tc.want {
			t.Errorf("%s: the math counts as %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSLOInputBudgeting(t *testing.T) {
	base := SLOInput{Service: "checkout", Name: "a", Feed: "web", Target: "99.9", Window: "28d"}
	ratio := base
	ratio.Indicator, ratio.GoodField, ratio.TotalField = "ratio", "good", "total"
	threshold := base
	threshold.Indicator, threshold.ValueField, threshold.Op, threshold.Threshold = "threshold", "p95_ms", "lte", "300"
	tests := []struct {
		name            string
		in              SLOInput
		method, slice   string
		wantMethod      BudgetingMethod
		wantSlice       float64
		wantErrField    string
		wantSameAsPlain bool
	}{
		{"ratio in time slices with a 99% slice target", ratio, "Timeslices", "99", BudgetTimeslices, 0.99, "", false},
		{"ratio in time slices needs a slice target", ratio, "timeslices", "", "", 0, "time_slice_target", false},
		{"a slice target of 0 is refused", ratio, "timeslices", "0", "", 0, "time_slice_target", false},
		{"a slice target over 100% is refused", ratio, "timeslices", "101", "", 0, "time_slice_target", false},
		{"ratio in occurrences is stored as the default", ratio, "Occurrences", "", "", 0, "", true},
		{"a slice target on events is refused", ratio, "occurrences", "99", "", 0, "time_slice_target", false},
		{"threshold in occurrences", threshold, "occurrences", "", BudgetOccurrences, 0, "", false},
		{"threshold in time slices at 100% is the default", threshold, "timeslices", "100", "", 0, "", true},
		{"threshold keeps another slice target", threshold, "timeslices", "95", "", 0.95, "", false},
		{"an unknown method is refused", ratio, "RatioTimeslices", "", "", 0, "budgeting_method", false},
	}
	for _, tc := range tests {
		in := tc.in
		in.Budgeting, in.SliceTarget = tc.method, tc.slice
		v, err := in.Validate()
		if tc.wantErrField != "" {
			var e *Error
			if !asError(err, &e) || e.Field != tc.wantErrField {
				t.Errorf("%s: error %v, want one on field %s", tc.name, err, tc.wantErrField)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if v.Binding.Budgeting != tc.wantMethod || v.Binding.SliceTarget != tc.wantSlice {
			t.Errorf("%s: method %q slice %v, want %q %v", tc.name, v.Binding.Budgeting, v.Binding.SliceTarget, tc.wantMethod, tc.wantSlice)
		}
		plain := tc.in
		pv, _ := plain.Validate()
		if same := v.Binding.SameSource(pv.Binding); same != tc.wantSameAsPlain {
			t.Errorf("%s: same source as the plain input = %v, want %v", tc.name, same, tc.wantSameAsPlain)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
