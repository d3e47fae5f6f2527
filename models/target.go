package models

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// percentRE is a plain decimal (the sign only so that "-1" hears "out of range"): people
// type targets, and exponents or hex floats in a target are typos, not intent.
var percentRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

var hundredRE = regexp.MustCompile(`^100(\.0+)?$`)

// ParseTargetPercent reads a target as people type it, in percent ("99.9" or "99.9%"), and
// returns it as a fraction (0.999). 0 and 100 are refused: 0 promises nothing and 100 leaves
// no error budget, so every budget figure would divide by zero.
func ParseTargetPercent(s string) (float64, error) {
	in := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if strings.Contains(in, ",") {
		return 0, FieldErrorf("target", "target %q: write the decimals with a dot, e.g. 99.9", s)
	}
	if !percentRE.MatchString(in) {
		return 0, FieldErrorf("target", "target %q is not a number: target must be between 0 and 100 (exclusive), e.g. 99.9", s)
	}
	p, err := strconv.ParseFloat(in, 64)
	if err != nil {
		return 0, FieldErrorf("target", "target %q is not a number: target must be between 0 and 100 (exclusive), e.g. 99.9", s)
	}
	if hundredRE.MatchString(in) {
		return 0, FieldErrorf("target", "target 100%% leaves no error budget: target must be between 0 and 100 (exclusive), e.g. 99.9")
	}
	if p <= 0 || p > 100 {
		return 0, FieldErrorf("target", "target %s is out of range: target must be between 0 and 100 (exclusive), e.g. 99.9", in)
	}
	// Reading "99.9e-2" gives the double nearest 0.999, where 99.9/100 would be one ulp off
	// and show up as 0.09999999999999% of budget in the UI.
	f, err := strconv.ParseFloat(in+"e-2", 64)
	if err != nil {
		f = p / 100
	}
	if f >= 1 {
		return 0, FieldErrorf("target", "target %s is too close to 100 to leave an error budget: use fewer nines, e.g. 99.999", in)
	}
	return f, nil
}

// ValidateTarget checks a target given as a fraction (OpenSLO's target: 0.999).
func ValidateTarget(target float64) error {
	if math.IsNaN(target) || target <= 0 || target >= 1 {
		return FieldErrorf("target", "target %v is out of range: give a fraction between 0 and 1 (exclusive), e.g. 0.999", target)
	}
	return nil
}

// TargetChange is one entry of an SLO's target history: from From on, Target applies.
type TargetChange struct {
	From   time.Time
	Target float64 // fraction, 0 < Target < 1
}

// TargetFor returns the target that judges the period ending at periodEnd (exclusive).
//
// Rule: a target change applies to the whole period in which it is made, and periods that
// ended before the change keep the target they had. So if a monthly SLO goes from 99.9% to
// 99.5% on 15 March, all of March is judged at 99.5% and February stays judged at 99.9%.
// In code: the latest change dated before periodEnd wins. For a rolling window pass now as
// periodEnd: the target in force now judges the last N days. Periods older than the whole
// history use the first target, so backfilled data is judged by something. ok is false only
// when changes is empty. The order of changes does not matter; of two with the same From the
// later in the slice wins.
func TargetFor(changes []TargetChange, periodEnd time.Time) (target float64, ok bool) {
	if len(changes) == 0 {
		return 0, false
	}
	first, best := 0, -1
	for i, c := range changes {
		if c.From.Before(changes[first].From) {
			first = i
		}
		if c.From.Before(periodEnd) && (best < 0 || !c.From.Before(changes[best].From)) {
			best = i
		}
	}
	if best < 0 {
		return changes[first].Target, true
	}
	return changes[best].Target, true
}

// ThresholdGood says whether one threshold sample (say p95 latency = value) was good, using
// OpenSLO's comparison names: lte, lt, gte, gt ("value lte 300" is good at 300 ms or less).
func ThresholdGood(op string, value, threshold float64) (bool, error) {
	if math.IsNaN(value) || math.IsNaN(threshold) {
		return false, FieldErrorf("value", "threshold comparison with NaN: the sample or the threshold is not a number")
	}
	switch strings.ToLower(strings.TrimSpace(op)) {
	case "lte":
		return value <= threshold, nil
	case "lt":
		return value < threshold, nil
	case "gte":
		return value >= threshold, nil
	case "gt":
		return value > threshold, nil
	}
	return false, FieldErrorf("op", "comparison %q is not one of lte, lt, gte, gt (e.g. lte for \"latency at most the threshold\")", op)
}
