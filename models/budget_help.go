package models

// FormulaHelp explains every SLO number Sitemetrics shows, in Markdown, for the in-app help
// page. It is the words for the code in budget.go, burnrate.go, window.go, target.go and
// budget_series.go: change them together.
const FormulaHelp = `# How Sitemetrics computes SLOs

An **SLO** (service level objective) is a promise such as "99.9% of checkout requests
succeed, measured over 28 days". Sitemetrics turns the rows your Splunk reports send into
the numbers below. Every number is computed the same way on every page and in every report.

## Indicator (SLI)

The **SLI** is the share of good: how much of what happened met the promise.

- **Ratio SLOs** count events: SLI = good events ÷ total events. If the report sends bad
  events instead, good = total − bad.
- **Threshold SLOs** (for example "p95 latency at most 300 ms") count **time slices**. Each
  report row covers one slice as long as the feed's interval (say 5 minutes); a slice is
  good when its value met the threshold. SLI = good slices ÷ slices that have data.

## Target and error budget

The **target** is the promised share, between 0% and 100% (never 100%: that would allow no
error at all). The **error budget** is what the target leaves over: 1 − target. At 99.9% the
budget is 0.1% — one bad event in a thousand, or 43 minutes of bad time in 30 days.

- Ratio: **allowed bad** = (1 − target) × total events so far in the window.
- Threshold: **allowed bad time** = (1 − target) × the length of the window. For calendar
  windows this is the full month or quarter, counted in real hours: a month with a
  daylight-saving change has 743 or 745 hours, not 744.

**Budget remaining** = 1 − bad ÷ allowed bad (for threshold SLOs: 1 − bad slices × slice
length ÷ allowed bad time). **Budget consumed** = 1 − remaining.

Budget remaining is **not stopped at 0%**. If more went wrong than the target allows, it goes
negative: −18.6% means the budget was overspent by 18.6% of itself. Charts draw this below
the axis so the size of a breach stays visible.

Slices without data are not counted as bad; a silent feed shows as **stale** instead.

### Worked example

A checkout SLO with a 95% target saw 118 requests, 111 of them good.

- SLI = 111 ÷ 118 = 94.07%, below the 95% target.
- Allowed bad = (1 − 0.95) × 118 = 5.9 requests. Actual bad = 118 − 111 = 7.
- Budget consumed = 7 ÷ 5.9 = 118.6%. Budget remaining = 1 − 1.186 = −18.6%.
- Status: **breached**.

## Windows: rolling and calendar

- A **rolling window** ("28-day rolling") always covers the last N days up to now. Old
  errors drop out as they age, so its budget can rise as well as fall.
- A **calendar window** ("calendar month (Europe/Madrid)") covers the current month or
  quarter in the SLO's time zone. It starts each period at 100% and resets at local midnight
  on the first day of the next period. Burn-down charts of calendar windows show an **ideal
  line** falling evenly from 100% to 0%; staying above it means the budget lasts the period.
  A ratio budget can still grow back a little within the period, because good traffic adds
  to the allowance; a threshold budget only goes down.

Monthly reports always use calendar months in the SLO's time zone, whatever its window.

### Windows end at data time

Every window, the SLO's own and each burn-rate window below, **ends at the end of the newest
bucket received** for the SLO, not at the clock: a bucket is a report row's time rounded down
to the feed's interval (10:03 on a 5-minute feed is the bucket 10:00–10:05). Windows hold whole
buckets, so on a 5-minute feed the 5-minute window holds exactly the newest bucket, whether your
search stamps rows at the start or the end of their five minutes. Once the feed is late (see
**stale**), windows end at now instead, so old numbers do not look current.

### One row per bucket

Each series has one row per bucket. A later row for the same bucket **replaces** the earlier
one, whatever its search id: a re-run search, a corrected resend or a backfill never counts a
bucket twice, and a resend of the same numbers is a duplicate. A feed whose search sends partial
counts within a bucket (one row per host, say) is set to **add** instead: each new row is added
to the bucket, and a row already added is a duplicate.

## Effective-dated targets

Changing a target never rewrites the past. **A target change applies to the whole period in
which it is made; periods that ended before the change keep the old target.** If a monthly
SLO moves from 99.9% to 99.5% on 15 March, all of March is judged at 99.5% and February
stays judged at 99.9%. A rolling window is judged by the target in force now. Every change
is in the audit log.

## Maintenance windows

Data that falls inside a maintenance window is left out of everything: the SLI, the budget,
burn rates and alerts, as if it had never arrived. Maintenance is shaded on the charts. For
threshold SLOs the allowed bad time stays the same; slices inside maintenance simply cannot
be bad.

## Burn rate

The **burn rate** says how fast the budget is being spent: the share of bad events (or bad
slices) over a recent stretch of time, divided by the share the target allows.

Burn rate = (bad ÷ total over the stretch) ÷ (1 − target)

A burn rate of 1 spends exactly the budget over the window. 2 spends it in half the window;
14.4 spends a 30-day budget in 50 hours. Burn rates look back from the data time (see above),
even across the start of a new calendar period.

## Alert tiers

Sitemetrics uses the multi-window, multi-burn-rate rules of Google's SRE Workbook. A tier
**fires when the burn rate is above its factor over both its long and its short window**,
and both windows have data. The long window proves the problem is big enough to matter; the
short window proves it is still happening, so the alert clears soon after a fix.

For a 30-day window:

| Tier         | Who        | Burn rate above | Long window | Short window | Budget spent before it fires |
|--------------|------------|-----------------|-------------|--------------|------------------------------|
| page quick   | a person   | 14.4×           | 1 hour      | 5 minutes    | 2%                           |
| page slow    | a person   | 6×              | 6 hours     | 30 minutes   | 5%                           |
| ticket quick | a ticket   | 3×              | 1 day       | 2 hours      | 10%                          |
| ticket slow  | a ticket   | 1×              | 3 days      | 6 hours      | 10%                          |

For other windows the windows scale with the window length (a 7-day window uses 7/30 of
each; a calendar month counts as 30 days and a quarter as 90) and the factors stay, so each
tier still waits for the same share of the budget. Each window is then rounded up to a whole
number of feed intervals, because a feed cannot be measured over less than one report: with
an hourly feed the 5-minute window becomes 1 hour.

The **fastest burn rate** shown is the highest long-window burn rate among the tiers.

## Time to exhaustion

Time to exhaustion = budget remaining × window length ÷ current burn rate.

The **current burn rate** is the burn rate over the ticket-quick long window (1 day for a
30-day window). One day is long enough that a single bad report does not predict disaster,
and short enough to follow a change in behaviour within hours. The estimate assumes traffic
keeps its usual rate. It is shown only when the budget would run out **before the window
ends** (before the period's end for a calendar window, within one window length for a rolling
one), and then the SLO is **at risk**; it is not shown when the budget is not burning, is
already spent, or would last the window.

## Status

Each SLO shows one status, the first that applies:

1. **computing** — the SLO's history is being derived (it was just created, or what it reads
   changed); no verdict until that is done, within about a minute.
2. **breached** — budget remaining is 0% or less.
3. **at risk** — a page tier fires, or the budget is projected to run out before the window
   ends (see time to exhaustion).
4. **no data** — the window holds no events (or no slices with data). The budget shows "—":
   such an SLO counts neither as meeting nor as missing its objective, and "N of M meeting
   objective" counts only SLOs with data, naming the others beside it.
5. **stale** — the feed is late: no new bucket for more than twice its expected interval after
   the newest one ended.
6. **healthy** — none of the above.

An SLO can be breached and stale at once; the page says both. Every page, the report, its CSV,
the API and notifications show the same status for the same data.

## Low traffic

**Low traffic** is shown when (1 − target) × total < 1: the window so far allows less than
one bad event (or slice), so a single error overspends the budget. It is common in the first
minutes of a calendar period: at 99.9% with 14 requests so far, one failure shows as
breached with −7043% remaining. We show the honest number and the low-traffic warning
rather than hide it; a ratio budget recovers as more good traffic arrives.

## Monthly attainment

Reports judge each closed calendar month against the target in force for that month: the
SLI, the budget used (above 100% means overspent), the time during the month when the budget
counted from the month start was at or below 0%, and whether the objective was **met** (the
budget was not overspent, which for a ratio SLO is the same as SLI ≥ target). A month that
ends with exactly 0% left is met, but counts as breached from the moment it reached 0%.
`
