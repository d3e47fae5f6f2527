package openslo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

func readTimeWindow(v any, where string, in *models.SLOInput) error {
	list, ok := v.([]any)
	if v == nil {
		return at(where, "spec.timeWindow", "is required here: the window the budget covers, e.g. [{duration: 28d, isRolling: true}]")
	}
	if !ok || len(list) != 1 {
		return at(where, "spec.timeWindow", "needs exactly one window, e.g. [{duration: 28d, isRolling: true}]")
	}
	const path = "spec.timeWindow[0]"
	tw, ok := list[0].(map[string]any)
	if !ok {
		return at(where, path, "must be {duration, isRolling} or {duration, calendar, isRolling: false}")
	}
	if err := onlyKeys(tw, where, path+".", "duration", "isRolling", "calendar"); err != nil {
		return err
	}
	d := str(tw["duration"])
	m := shorthandRE.FindStringSubmatch(d)
	if m == nil {
		return at(where, path+".duration", "%q is not an OpenSLO duration: a whole number and one of m h d w M Q Y, e.g. 28d or 1M", fmt.Sprint(tw["duration"]))
	}
	n, _ := strconv.Atoi(m[1])
	cal, hasCal := tw["calendar"]
	rolling := !hasCal // the spec: an omitted isRolling means false when a calendar is given
	if r, ok := tw["isRolling"]; ok {
		b, isBool := r.(bool)
		if !isBool {
			return at(where, path+".isRolling", "must be true or false")
		}
		rolling = b
	}
	switch {
	case rolling && hasCal:
		return at(where, path+".calendar", "a rolling window (isRolling: true) has no calendar: remove calendar, or set isRolling: false")
	case !rolling && !hasCal:
		return at(where, path+".calendar", "a calendar window (isRolling: false) needs calendar: {startTime: \"2026-01-01 00:00:00\", timeZone: Europe/Madrid}")
	}
	if rolling {
		switch m[2] {
		case "d":
			in.Window = fmt.Sprintf("%dd", n)
		case "w":
			in.Window = fmt.Sprintf("%dd", 7*n)
		case "m", "h":
			return at(where, path+".duration", "a %s window has no meaning here: SLO windows are whole days (e.g. 28d), a calendar month or a calendar quarter", describeShorthand(n, m[2]))
		default:
			return at(where, path+".duration", "a rolling %s window has no fixed length: write days (e.g. 30d), or a calendar window (isRolling: false with a calendar)", describeShorthand(n, m[2]))
		}
		return nil
	}
	c, ok := cal.(map[string]any)
	if !ok {
		return at(where, path+".calendar", "must be {startTime: \"2026-01-01 00:00:00\", timeZone: Europe/Madrid}")
	}
	if err := onlyKeys(c, where, path+".calendar.", "startTime", "timeZone"); err != nil {
		return err
	}
	switch d {
	case "1M":
		in.Window = "month"
	case "1Q":
		in.Window = "quarter"
	default:
		return at(where, path+".duration", "a calendar %s window has no meaning here: calendar windows are one month (1M) or one quarter (1Q)", describeShorthand(n, m[2]))
	}
	in.TimeZone = str(c["timeZone"])
	if st, ok := c["startTime"]; ok {
		s, _ := st.(string)
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			return at(where, path+".calendar.startTime", "%q is not a date and time like \"2026-01-01 00:00:00\"", fmt.Sprint(st))
		}
		if t.Day() != 1 || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || (d == "1Q" && (t.Month()-1)%3 != 0) {
			return at(where, path+".calendar.startTime", "periods starting at %s have no meaning here: calendar periods start at midnight on the first day of a %s in the time zone",
				s, map[bool]string{true: "quarter (January, April, July, October)", false: "month"}[d == "1Q"])
		}
	}
	return nil
}

func describeShorthand(n int, unit string) string {
	name := map[string]string{"m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month", "Q": "quarter", "Y": "year"}[unit]
	return fmt.Sprintf("%d-%s", n, name)
}

func readBudgeting(v any, where string, ind string) (models.BudgetingMethod, error) {
	const path = "spec.budgetingMethod"
	switch s := str(v); {
	case v == nil:
		return "", nil // the indicator's own
	case s == "Occurrences":
		return models.BudgetOccurrences, nil
	case s == "Timeslices":
		return models.BudgetTimeslices, nil
	case s == "RatioTimeslices":
		return "", at(where, path, "RatioTimeslices (the average of every slice's ratio) is not a budget Sitemetrics keeps: "+
			"use Timeslices with a timeSliceTarget (a slice is good when its ratio meets it), or Occurrences (good/total events)")
	default:
		return "", at(where, path, "%q is not Occurrences or Timeslices", fmt.Sprint(v))
	}
}

func readObjective(item any, where, path string, method models.BudgetingMethod, x *SLO) error {
	o, ok := item.(map[string]any)
	if !ok {
		return at(where, path, "must be a mapping, e.g. {displayName: Availability, target: 0.999}")
	}
	if _, ok := o["compositeWeight"]; ok {
		return at(where, path+".compositeWeight", "weights combine objectives into a composite SLO, which has no meaning here: each objective has its own budget")
	}
	if err := onlyKeys(o, where, path+".", "displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow"); err != nil {
		return err
	}
	x.ObjectiveName = str(o["displayName"])
	in := &x.Input
	_, hasTarget := o["target"]
	_, hasPercent := o["targetPercent"]
	switch {
	case hasTarget && hasPercent:
		return at(where, path+".targetPercent", "give target (a fraction such as 0.999) or targetPercent (99.9), not both")
	case hasTarget:
		f, ok := number(o["target"])
		switch {
		case !ok:
			return at(where, path+".target", "%q is not a number: write a fraction such as 0.999", fmt.Sprint(o["target"]))
		case f > 1 && f < 100:
			return at(where, path+".target", "%v is a percentage, but target is a fraction below 1: write target: %s or targetPercent: %v",
				f, shiftDecimal(strconv.FormatFloat(f, 'f', -1, 64), -2), f)
		case f >= 1:
			return at(where, path+".target", "%v leaves no error budget: a target is a fraction below 1, e.g. 0.999", f)
		case f <= 0:
			return at(where, path+".target", "%v promises nothing: a target is a fraction above 0, e.g. 0.999", f)
		}
		in.Target = shiftDecimal(strconv.FormatFloat(f, 'f', -1, 64), 2)
	case hasPercent:
		f, ok := number(o["targetPercent"])
		if !ok {
			return at(where, path+".targetPercent", "%q is not a number: write a percentage such as 99.9", fmt.Sprint(o["targetPercent"]))
		}
		in.Target = strconv.FormatFloat(f, 'f', -1, 64)
	default:
		return at(where, path, "needs a target: a fraction such as target: 0.999 (or targetPercent: 99.9)")
	}
	op, hasOp := o["op"]
	value, hasValue := o["value"]
	if in.Indicator == string(models.IndicatorRatio) {
		if hasOp || hasValue {
			k := "op"
			if !hasOp {
				k = "value"
			}
			return at(where, path+"."+k, "op and value compare a thresholdMetric's values with a threshold; a ratioMetric objective has neither: remove them")
		}
	} else {
		if !hasOp {
			return at(where, path+".op", "is required with a thresholdMetric: lte, lt, gte or gt (how a good value compares with value)")
		}
		if s, _ := op.(string); s != "lte" && s != "lt" && s != "gte" && s != "gt" {
			return at(where, path+".op", "%q is not one of lte, lt, gte, gt", fmt.Sprint(op))
		}
		if !hasValue {
			return at(where, path+".value", "is required with a thresholdMetric: the threshold the metric is compared with, e.g. 300")
		}
		f, ok := number(value)
		if !ok {
			return at(where, path+".value", "%q is not a number", fmt.Sprint(value))
		}
		in.Op, in.Threshold = op.(string), strconv.FormatFloat(f, 'f', -1, 64)
	}
	effective := method
	if effective == "" {
		effective = models.Binding{Indicator: models.Indicator(in.Indicator)}.Method()
	}
	st, hasST := o["timeSliceTarget"]
	sw, hasSW := o["timeSliceWindow"]
	if effective != models.BudgetTimeslices {
		for k, has := range map[string]bool{"timeSliceTarget": hasST, "timeSliceWindow": hasSW} {
			if has {
				return at(where, path+"."+k, "applies to budgetingMethod: Timeslices; this SLO counts events (Occurrences): remove it")
			}
		}
		return nil
	}
	if hasST {
		f, ok := number(st)
		if !ok || f <= 0 || f > 1 {
			return at(where, path+".timeSliceTarget", "%q: give the share of good events that makes a slice good, a fraction above 0 and at most 1, e.g. 0.99", fmt.Sprint(st))
		}
		in.SliceTarget = shiftDecimal(strconv.FormatFloat(f, 'f', -1, 64), 2)
	} else if in.Indicator == string(models.IndicatorRatio) {
		return at(where, path+".timeSliceTarget", "is required with a ratioMetric budgeted in Timeslices: the share of good events that makes a slice good, e.g. 0.99")
	}
	if hasSW {
		d, err := sliceWindow(sw)
		if err != nil {
			return at(where, path+".timeSliceWindow", "%v", err)
		}
		x.SliceWindow = d
	}
	return nil
}

// sliceWindow reads a timeSliceWindow: a duration shorthand, or a number of minutes.
func sliceWindow(v any) (time.Duration, error) {
	if f, ok := number(v); ok && f > 0 && f == float64(int(f)) {
		return time.Duration(f) * time.Minute, nil
	}
	m := shorthandRE.FindStringSubmatch(str(v))
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration such as 5m", fmt.Sprint(v))
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	if unit == 0 || n == 0 {
		return 0, fmt.Errorf("a %s slice has no meaning here: a slice is one sample of the feed, e.g. 5m", describeShorthand(n, m[2]))
	}
	return time.Duration(n) * unit, nil
}

// FormatSliceWindow writes a feed interval as OpenSLO's duration shorthand.
func FormatSliceWindow(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String() // not expressible in OpenSLO: oslo validate will say so
}
