package models

import (
	"math"
	"time"
)

// Severity says who a burn-rate tier wakes: a person now (page) or a queue (ticket).
type Severity string

// The severities of the burn-rate tiers.
const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
)

// BurnTier is one rule of multi-window, multi-burn-rate alerting: it fires when the burn rate
// over both Long and Short is above Factor. The long window proves the burn is significant;
// the short one proves it is still happening, so the alert clears soon after the fix.
type BurnTier struct {
	Name     string // "page quick", "page slow", "ticket quick", "ticket slow"
	Severity Severity
	Factor   float64
	Long     time.Duration
	Short    time.Duration
	// BudgetSpent is the share of the window's budget gone by the time the long window can
	// fire (Factor × Long / window length): 2% for the quick page.
	BudgetSpent float64
}

// presetWindow is the window length the SRE Workbook preset is written for.
const presetWindow = 30 * day

// burnPreset is the SRE Workbook's recommendation for a 30-day window (as in Sloth's
// google-30d preset); a function, not a variable, so nothing can change it for everyone.
func burnPreset() [4]BurnTier {
	return [4]BurnTier{
		{Name: "page quick", Severity: SeverityPage, Factor: 14.4, Long: time.Hour, Short: 5 * time.Minute},
		{Name: "page slow", Severity: SeverityPage, Factor: 6, Long: 6 * time.Hour, Short: 30 * time.Minute},
		{Name: "ticket quick", Severity: SeverityTicket, Factor: 3, Long: day, Short: 2 * time.Hour},
		{Name: "ticket slow", Severity: SeverityTicket, Factor: 1, Long: 3 * day, Short: 6 * time.Hour},
	}
}

// currentBurnTier is the tier whose long window gives "the current burn rate" used for time
// to exhaustion and for at risk: ticket quick, 1 day on a 30-day window. A 5-minute or 1-hour
// rate would turn one bad sample into "budget gone by tonight" and flap; the 3-day rate
// would still be reporting yesterday's incident long after it ended. One day smooths
// single samples, follows a sustained change within hours, and agrees with the 10%-of-budget
// ticket rule, so "at risk" and the ticket alert rarely contradict each other.
const currentBurnTier = 2

// Tiers returns the burn-rate tiers for a window of the given length fed every interval.
//
// Scaling: the 30-day preset's windows are multiplied by windowLength / 30 days and the
// factors are kept; that keeps the share of budget each tier waits for (2%, 5%, 10%, 10%),
// because Factor × Long / window does not change when Long and window scale together.
// Each scaled window is then rounded up to a whole number of feed intervals, at least one:
// data arrives one sample per interval, so nothing shorter can be measured, and a window of
// whole intervals always holds the same number of samples (14 minutes over a 5-minute feed
// would hold two or three depending on the clock; 15 minutes always holds three). On a
// 30-day window with a 1- or 5-minute feed the preset is unchanged. With interval 0 windows
// are rounded up to whole seconds. Calendar windows pass their Nominal length.
func Tiers(windowLength, interval time.Duration) []BurnTier {
	if windowLength <= 0 {
		return nil
	}
	unit := interval
	if unit <= 0 {
		unit = time.Second
	}
	scale := float64(windowLength) / float64(presetWindow)
	fit := func(d time.Duration) time.Duration {
		// The small slack keeps 14.000000001 intervals (float noise) at 14.
		n := math.Ceil(float64(d)*scale/float64(unit) - 1e-9)
		return time.Duration(math.Max(n, 1)) * unit
	}
	preset := burnPreset()
	out := make([]BurnTier, len(preset))
	for i, t := range preset {
		t.Long, t.Short = fit(t.Long), fit(t.Short)
		t.BudgetSpent = t.Factor * float64(t.Long) / float64(windowLength)
		out[i] = t
	}
	return out
}

// BurnRate is how fast the budget is going: the share of bad events (or bad slices) over a
// lookback divided by the share the target allows, (bad / total) / (1 − target). 1 spends the
// budget exactly over the window; 14.4 spends 30 days of budget in 50 hours. ok is false when
// the lookback holds no events, which is not the same as burning at 0.
func BurnRate(bad, total, target float64) (rate float64, ok bool) {
	if total <= 0 {
		return 0, false
	}
	return (bad / total) / (1 - target), true
}

// TierState is a tier with the burn rates measured now.
type TierState struct {
	BurnTier
	LongRate, ShortRate       float64
	LongHasData, ShortHasData bool
	// Firing needs both windows above the factor and both with data: a long window still
	// full of a fixed incident alone does not fire, and an empty window never does.
	Firing bool
}
