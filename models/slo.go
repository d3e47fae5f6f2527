package models

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Service is something an SLO is about: checkout, search, the login page.
type Service struct {
	ID          int64  `gorm:"primaryKey" json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Team        string `json:"team"`
	Tier        string `json:"tier"`
	// DisplayName, Labels and Annotations come from OpenSLO files (labels other than
	// team and tier, as a JSON object; "" when none) and go back out on export.
	DisplayName string    `json:"display_name,omitempty"`
	Labels      string    `json:"labels,omitempty"`
	Annotations string    `json:"annotations,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ServiceInput is what a person gives to create or change a service.
type ServiceInput struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Team        string `json:"team"`
	Tier        string `json:"tier"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate normalises the input and names every field at fault (FieldErrors).
func (in *ServiceInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Team, in.Tier, in.Description = strings.TrimSpace(in.Team), strings.TrimSpace(in.Tier), strings.TrimSpace(in.Description)
	var fe FieldErrors
	if !slugRE.MatchString(in.Name) {
		fe.Add("name", "name %q: use 1–63 lowercase letters, digits, '.', '_' or '-', e.g. checkout", in.Name)
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"team", in.Team, 100}, {"tier", in.Tier, 50}, {"description", in.Description, 2000}} {
		if len(f.value) > f.max {
			fe.Add(f.field, "the %s is longer than %d characters", f.field, f.max)
		}
	}
	return fe.Err()
}

// SLO is an objective on a service. Its binding to a feed is in Binding;
// its targets, effective-dated, in SLOTarget.
type SLO struct {
	ID            int64  `gorm:"primaryKey" json:"id"`
	ServiceID     int64  `json:"service_id"`
	Name          string `json:"name"`
	DisplayName   string `json:"display_name"`
	Description   string `json:"description"`
	WindowSpec    string `json:"window"`
	TimeZone      string `json:"time_zone"`
	LatencyFields string `json:"latency_fields"`
	// Labels and Annotations are OpenSLO metadata kept as JSON objects ("" when none).
	Labels      string `json:"labels,omitempty"`
	Annotations string `json:"annotations,omitempty"`
	// ObjectiveName is the OpenSLO objective's own display name. An OpenSLO SLO with
	// several objectives becomes one SLO per objective: ObjectiveOf names that OpenSLO
	// SLO and ObjectiveIndex is the objective's place in it (see models/openslo).
	ObjectiveName  string `json:"objective_name,omitempty"`
	ObjectiveOf    string `json:"objective_of,omitempty"`
	ObjectiveIndex int    `json:"objective_index,omitempty"`
	// OpenSLO keeps, as JSON, what an OpenSLO file said that Sitemetrics does not act
	// on (indicator metadata, alert policies), so that an export gives it back.
	OpenSLO           string    `gorm:"column:openslo" json:"-"`
	Generation        int       `json:"-"`
	PendingGeneration *int      `json:"-"`
	RederiveDone      int       `json:"-"`
	RederiveTotal     int       `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Title is the name people read: the display name, else the name; for one of
// several objectives of an OpenSLO SLO, followed by the objective's name.
func (s SLO) Title() string {
	title := s.Name
	if s.DisplayName != "" {
		title = s.DisplayName
	}
	if s.ObjectiveOf != "" && s.ObjectiveName != "" {
		title += " — " + s.ObjectiveName
	}
	return title
}

// Binding says which feed, series and fields an SLO reads, for one generation
// of its derived points.
type Binding struct {
	SLOID      int64     `gorm:"primaryKey;autoIncrement:false" json:"-"`
	Generation int       `gorm:"primaryKey;autoIncrement:false" json:"-"`
	FeedID     int64     `json:"feed_id"`
	Series     string    `json:"series"`
	Indicator  Indicator `json:"indicator"`
	GoodField  string    `json:"good_field,omitempty"`
	BadField   string    `json:"bad_field,omitempty"`
	TotalField string    `json:"total_field,omitempty"`
	ValueField string    `json:"value_field,omitempty"`
	Op         string    `json:"op,omitempty"`
	Threshold  float64   `json:"threshold,omitempty"`
	// Budgeting is "" for the indicator's own method (see Method).
	Budgeting BudgetingMethod `json:"budgeting_method,omitempty"`
	// SliceTarget is OpenSLO's timeSliceTarget, a fraction: a ratio SLO budgeted in time
	// slices counts a slice good when its good/total meets it. 0 when unused.
	SliceTarget float64 `json:"time_slice_target,omitempty"`
}

// BudgetingMethod is how an SLO's budget counts (OpenSLO's budgetingMethod).
type BudgetingMethod string

// The budgeting methods.
const (
	// BudgetOccurrences counts events: SLI = good / total events, the budget in events.
	BudgetOccurrences BudgetingMethod = "occurrences"
	// BudgetTimeslices counts time: each sample is one slice of the feed's interval, good or
	// bad; SLI = good slices / slices with data, the budget in time.
	BudgetTimeslices BudgetingMethod = "timeslices"
)

// ParseBudgetingMethod reads a method as OpenSLO (Occurrences, Timeslices) or the API
// (occurrences, timeslices) writes it; "" is the indicator's own.
func ParseBudgetingMethod(s string) (BudgetingMethod, error) {
	switch m := BudgetingMethod(strings.ToLower(strings.TrimSpace(s))); m {
	case "", BudgetOccurrences, BudgetTimeslices:
		return m, nil
	}
	return "", FieldErrorf("budgeting_method", "budgeting method %q is not occurrences (good/total events) or timeslices (good/total time slices)", s)
}

// MathIndicator is the Indicator the budget math (Evaluate and friends) counts with:
// events for Occurrences, time slices for Timeslices, whatever the SLO's indicator.
func (m BudgetingMethod) MathIndicator() Indicator {
	if m == BudgetTimeslices {
		return IndicatorThreshold
	}
	return IndicatorRatio
}

// Method is the binding's budgeting method: as set, else its indicator's own (ratio
// counts events, threshold counts time slices).
func (b Binding) Method() BudgetingMethod {
	switch {
	case b.Budgeting != "":
		return b.Budgeting
	case b.Indicator == IndicatorThreshold:
		return BudgetTimeslices
	}
	return BudgetOccurrences
}

// TableName keeps GORM on the migration's table.
func (Binding) TableName() string { return "slo_bindings" }

// Fields are the sample fields the binding reads.
func (b Binding) Fields() []string {
	var out []string
	for _, f := range []string{b.GoodField, b.BadField, b.TotalField, b.ValueField} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SameSource reports whether two bindings derive the same points.
func (b Binding) SameSource(o Binding) bool {
	return b.FeedID == o.FeedID && b.Series == o.Series && b.Indicator == o.Indicator && b.GoodField == o.GoodField &&
		b.BadField == o.BadField && b.TotalField == o.TotalField && b.ValueField == o.ValueField && b.Op == o.Op && b.Threshold == o.Threshold &&
		b.Method() == o.Method() && b.SliceTarget == o.SliceTarget
}

// Derive turns one sample's fields into the SLO's point, or false when the
// sample does not carry this SLO's fields.
//
//   - ratio, Occurrences: the row's good and total events.
//   - ratio, Timeslices: the row is one slice, good (1 of 1) when good/total ≥ SliceTarget;
//     a row with no events (total 0) is a slice without data, so no point.
//   - threshold, either method: one point of 1 (good) or 0 out of 1; Occurrences counts it
//     as one event, Timeslices as one slice of the feed's interval (see Method).
func (b Binding) Derive(fields Fields) (good, total float64, ok bool) {
	switch b.Indicator {
	case IndicatorRatio:
		t, ok := fields.Get(b.TotalField)
		if !ok {
			return 0, 0, false
		}
		g := 0.0
		if b.GoodField != "" {
			if g, ok = fields.Get(b.GoodField); !ok {
				return 0, 0, false
			}
		} else {
			bad, ok := fields.Get(b.BadField)
			if !ok {
				return 0, 0, false
			}
			g = t - bad
		}
		if b.Method() != BudgetTimeslices {
			return g, t, true
		}
		if t <= 0 {
			return 0, 0, false
		}
		if g/t >= b.SliceTarget {
			return 1, 1, true
		}
		return 0, 1, true
	case IndicatorThreshold:
		v, ok := fields.Get(b.ValueField)
		if !ok {
			return 0, 0, false
		}
		if good, err := ThresholdGood(b.Op, v, b.Threshold); err == nil && good {
			return 1, 1, true
		}
		return 0, 1, true
	}
	return 0, 0, false
}

// MaxValue is the largest number a bound field may carry: far beyond any real count
// or latency, and small enough that a window's sums can never overflow.
const MaxValue = 1e15

// Check refuses a row whose numbers make no sense for this SLO: counts that are negative,
// above MaxValue, or more good (or bad) than total; a threshold value beyond ±MaxValue.
// Ingest rejects such rows for a bound series; derivation from stored samples applies the
// same check and counts the rows it excludes.
func (b Binding) Check(fields Fields) error {
	if b.Indicator != IndicatorRatio {
		if v, ok := fields.Get(b.ValueField); ok && math.Abs(v) > MaxValue {
			return fmt.Errorf("%s (%g) is beyond ±%g", b.ValueField, v, MaxValue)
		}
		return nil
	}
	// Each field is looked up once: every row ingested is checked.
	var counts [3]struct {
		name string
		v    float64
		ok   bool
	}
	for i, f := range []string{b.GoodField, b.BadField, b.TotalField} {
		if f == "" {
			continue
		}
		c := &counts[i]
		c.name = f
		if c.v, c.ok = fields.Get(f); c.ok && (c.v < 0 || c.v > MaxValue) {
			return fmt.Errorf("%s (%g) is not a count between 0 and %g", f, c.v, MaxValue)
		}
	}
	total := counts[2]
	if !total.ok {
		return nil
	}
	for _, c := range counts[:2] {
		if c.ok && c.v > total.v {
			return fmt.Errorf("%s (%v) is more than %s (%v)", c.name, c.v, total.name, total.v)
		}
	}
	return nil
}

// SLOTarget is a target and the moment it took effect.
type SLOTarget struct {
	ID            int64     `gorm:"primaryKey" json:"id"`
	SLOID         int64     `gorm:"column:slo_id" json:"-"`
	Target        float64   `json:"target"`
	EffectiveFrom time.Time `json:"effective_from"`
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

// TableName keeps GORM on the migration's table.
func (SLOTarget) TableName() string { return "slo_targets" }

// SLOInput is what a person, the API or an OpenSLO file gives for an SLO.
// Targets are in percent, as people write them.
type SLOInput struct {
	Service       string `json:"service"`
	Name          string `json:"name"`
	DisplayName   string `json:"display_name"`
	Description   string `json:"description"`
	Indicator     string `json:"indicator"`
	Target        string `json:"target"`
	Window        string `json:"window"`
	TimeZone      string `json:"time_zone"`
	Feed          string `json:"feed"`
	Series        string `json:"series"`
	GoodField     string `json:"good_field"`
	BadField      string `json:"bad_field"`
	TotalField    string `json:"total_field"`
	ValueField    string `json:"value_field"`
	Op            string `json:"op"`
	Threshold     string `json:"threshold"`
	LatencyFields string `json:"latency_fields"`
	// Budgeting is occurrences or timeslices; "" is the indicator's own method.
	Budgeting string `json:"budgeting_method"`
	// SliceTarget is the share of good events that makes a time slice good, in percent
	// as targets are ("99" = 0.99): required for a ratio SLO budgeted in time slices.
	SliceTarget string `json:"time_slice_target"`
}

// ValidSLO is an SLOInput checked and parsed; the service and feed are
// resolved by the store.
type ValidSLO struct {
	SLO     SLO
	Binding Binding
	Target  float64
	Window  Window
}

// Validate checks everything that does not need the database, naming every
// field at fault and how to fix it (FieldErrors).
func (in *SLOInput) Validate() (ValidSLO, error) {
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, p := range []*string{&in.Service, &in.Name, &in.DisplayName, &in.Indicator, &in.Target, &in.Window, &in.TimeZone,
		&in.Feed, &in.Series, &in.GoodField, &in.BadField, &in.TotalField, &in.ValueField, &in.Op, &in.Threshold, &in.LatencyFields,
		&in.Budgeting, &in.SliceTarget} {
		trim(p)
	}
	var v ValidSLO
	var fe FieldErrors
	if !slugRE.MatchString(in.Name) {
		fe.Add("name", "name %q: use 1–63 lowercase letters, digits, '.', '_' or '-', e.g. checkout-availability", in.Name)
	}
	if in.Service == "" {
		fe.Add("service", "choose the service this SLO is about")
	}
	if len(in.DisplayName) > 200 {
		fe.Add("display_name", "the display name is longer than 200 characters")
	}
	if len(in.Description) > 2000 {
		fe.Add("description", "the description is longer than 2000 characters")
	}
	if in.Feed == "" {
		fe.Add("feed", "choose the feed whose rows this SLO reads")
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	w, werr := parseWindowSpec(in.Window)
	fe.AddErr(werr)
	loc, zerr := loadZone(in.TimeZone)
	if fe.AddErr(zerr) {
		w.loc = loc
	}
	target, err := ParseTargetPercent(in.Target)
	fe.AddErr(err)
	b := Binding{Series: in.Series, Indicator: Indicator(strings.ToLower(in.Indicator))}
	switch b.Indicator {
	case IndicatorRatio:
		b.TotalField = in.TotalField
		if in.TotalField == "" {
			fe.Add("total_field", "a ratio SLO needs the field that counts all events, e.g. total")
		}
		switch {
		case in.GoodField == "" && in.BadField == "":
			fe.Add("good_field", "a ratio SLO needs the field counting good events (e.g. good), or the one counting bad events")
		case in.GoodField != "" && in.BadField != "":
			fe.Add("bad_field", "give the good field or the bad field, not both")
		}
		b.GoodField, b.BadField = in.GoodField, in.BadField
	case IndicatorThreshold:
		if in.ValueField == "" {
			fe.Add("value_field", "a threshold SLO needs a value field, e.g. p95_ms")
		}
		op := strings.ToLower(in.Op)
		if op == "" {
			op = "lte"
		}
		if _, err := ThresholdGood(op, 0, 0); err != nil {
			fe.Add("op", "operator %q is not one of lte (≤), lt (<), gte (≥), gt (>)", in.Op)
		}
		th, err := strconv.ParseFloat(in.Threshold, 64)
		if err != nil || math.IsNaN(th) || math.IsInf(th, 0) || th < 0 {
			fe.Add("threshold", "threshold %q is not a number ≥ 0: write e.g. 300 for 300 ms", in.Threshold)
		}
		b.ValueField, b.Op, b.Threshold = in.ValueField, op, th
	default:
		fe.Add("indicator", "indicator %q is not ratio (good/total events) or threshold (a value against a limit)", in.Indicator)
	}
	if b.Indicator == IndicatorRatio || b.Indicator == IndicatorThreshold {
		fe.AddErr(b.setBudgeting(in.Budgeting, in.SliceTarget))
	}
	for _, f := range [][2]string{{"good_field", b.GoodField}, {"bad_field", b.BadField}, {"total_field", b.TotalField}, {"value_field", b.ValueField}} {
		if f[1] == "" {
			continue
		}
		if err := CheckFieldName(f[1]); err != nil {
			fe.Add(f[0], "field %q %v", f[1], err)
		}
	}
	latency := SplitList(in.LatencyFields)
	if len(latency) > 3 {
		fe.Add("latency_fields", "at most three latency fields (p50, p95, p99), e.g. p50_ms,p95_ms,p99_ms")
	}
	if err := fe.Err(); err != nil {
		return v, err
	}
	v.SLO = SLO{Name: in.Name, DisplayName: in.DisplayName, Description: in.Description, WindowSpec: w.Spec(),
		TimeZone: w.TimeZone(), LatencyFields: strings.Join(latency, ",")}
	v.Binding, v.Target, v.Window = b, target, w
	return v, nil
}

// setBudgeting validates the budgeting method and time-slice target for b's indicator.
// The indicator's own method is stored as "", and a threshold's slice target of 100%
// as 0: one sample is one slice, so any slice target gives the same slices.
func (b *Binding) setBudgeting(method, sliceTarget string) error {
	m, err := ParseBudgetingMethod(method)
	if err != nil {
		return err
	}
	b.Budgeting = m
	if b.Budgeting == map[Indicator]BudgetingMethod{IndicatorRatio: BudgetOccurrences, IndicatorThreshold: BudgetTimeslices}[b.Indicator] {
		b.Budgeting = ""
	}
	b.SliceTarget = 0
	if sliceTarget != "" {
		if b.Method() != BudgetTimeslices {
			return FieldErrorf("time_slice_target", "a time-slice target applies to an SLO budgeted in time slices (timeslices), not in events")
		}
		p, err := strconv.ParseFloat(strings.TrimSuffix(sliceTarget, "%"), 64)
		if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			return FieldErrorf("time_slice_target", "time-slice target %q: give the share of good events that makes a slice good, above 0 and at most 100 (percent), e.g. 99", sliceTarget)
		}
		if b.SliceTarget, err = strconv.ParseFloat(strings.TrimSuffix(sliceTarget, "%")+"e-2", 64); err != nil {
			b.SliceTarget = p / 100
		}
	}
	switch {
	case b.Indicator == IndicatorRatio && b.Method() == BudgetTimeslices && b.SliceTarget == 0:
		return FieldErrorf("time_slice_target", "a ratio SLO budgeted in time slices needs a time-slice target: the share of good events that makes a slice good, e.g. 99")
	case b.Indicator == IndicatorThreshold && b.SliceTarget == 1:
		b.SliceTarget = 0
	}
	return nil
}

// SplitList splits a list of names written with commas, spaces or semicolons.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// SLODetail is an SLO with everything needed to show or evaluate it.
type SLODetail struct {
	SLO
	Service Service     `json:"service"`
	Feed    Feed        `json:"feed"`
	Binding Binding     `json:"binding"`
	Targets []SLOTarget `json:"targets"`
	// Rederiving is set while history is being recomputed after a binding change.
	Rederiving *Progress `json:"rederiving,omitempty"`
}

// Progress of a background re-derivation.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Percent is how far along it is.
func (p Progress) Percent() int {
	if p.Total <= 0 {
		return 0
	}
	return min(100, p.Done*100/p.Total)
}

// Target is the target in force at instant t.
func (d SLODetail) Target(t time.Time) float64 {
	return d.targetBefore(t.Add(time.Nanosecond))
}

// targetBefore is the target of the latest change before end (exclusive).
func (d SLODetail) targetBefore(end time.Time) float64 {
	changes := make([]TargetChange, len(d.Targets))
	for i, x := range d.Targets {
		changes[i] = TargetChange{From: x.EffectiveFrom, Target: x.Target}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].From.Before(changes[j].From) })
	target, _ := TargetFor(changes, end)
	return target
}

// Window parses the stored window (it was validated when saved).
func (d SLODetail) Window() Window {
	w, err := ParseWindow(d.WindowSpec, d.TimeZone)
	if err != nil {
		w, _ = ParseWindow("30d", "UTC")
	}
	return w
}

// Objective is what the math needs at now, judged by the target in force at
// the end of the current period (a change made during a calendar period
// applies to all of it; a rolling window is judged by today's target).
func (d SLODetail) Objective(now time.Time) Objective {
	w := d.Window()
	target := d.Target(now)
	if w.Calendar() {
		_, end := w.Period(now)
		target = d.targetBefore(end)
	}
	// The math counts by budgeting method: events (Occurrences) or time slices (Timeslices).
	return Objective{Indicator: d.Binding.Method().MathIndicator(), Target: target, Window: w, Interval: d.Feed.Interval()}
}

// ObjectiveFor is the objective for a past calendar period [start, end).
func (d SLODetail) ObjectiveFor(end time.Time) Objective {
	o := d.Objective(end)
	o.Target = d.targetBefore(end)
	return o
}

// Latency are the latency fields to chart (p50, p95, p99 order as given).
func (d SLODetail) Latency() []string { return SplitList(d.LatencyFields) }

// Input turns an SLO back into the form that would recreate it.
func (d SLODetail) Input() SLOInput {
	b := d.Binding
	in := SLOInput{Service: d.Service.Name, Name: d.Name, DisplayName: d.DisplayName, Description: d.Description,
		Indicator: string(b.Indicator), Window: d.WindowSpec, TimeZone: d.TimeZone, Feed: d.Feed.Name, Series: b.Series,
		GoodField: b.GoodField, BadField: b.BadField, TotalField: b.TotalField, ValueField: b.ValueField, Op: b.Op,
		LatencyFields: d.LatencyFields}
	if len(d.Targets) > 0 {
		in.Target = FormatPercent(d.Targets[len(d.Targets)-1].Target)
	}
	if b.Indicator == IndicatorThreshold {
		in.Threshold = strconv.FormatFloat(b.Threshold, 'f', -1, 64)
	}
	in.Budgeting = string(b.Budgeting)
	if b.SliceTarget != 0 {
		in.SliceTarget = FormatPercent(b.SliceTarget)
	}
	return in
}

// FormatPercent writes a fraction as the shortest exact percentage: 0.999 → "99.9".
func FormatPercent(f float64) string {
	return strconv.FormatFloat(math.Round(f*100*1e6)/1e6, 'f', -1, 64)
}

// UnmarshalJSON accepts numbers where people write them ("target": 99.9)
// as well as strings, and refuses unknown keys.
func (in *SLOInput) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Errorf(EINVALID, "the body is not a JSON object: %v", err)
	}
	fields := map[string]*string{"service": &in.Service, "name": &in.Name, "display_name": &in.DisplayName, "description": &in.Description,
		"indicator": &in.Indicator, "target": &in.Target, "window": &in.Window, "time_zone": &in.TimeZone, "feed": &in.Feed,
		"series": &in.Series, "good_field": &in.GoodField, "bad_field": &in.BadField, "total_field": &in.TotalField,
		"value_field": &in.ValueField, "op": &in.Op, "threshold": &in.Threshold, "latency_fields": &in.LatencyFields,
		"budgeting_method": &in.Budgeting, "time_slice_target": &in.SliceTarget}
	for k, v := range raw {
		dst, ok := fields[k]
		if !ok {
			return &Error{Code: EINVALID, Field: k, Message: fmt.Sprintf("unknown field %q", k)}
		}
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			*dst = s
			continue
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err == nil {
			*dst = n.String()
			continue
		}
		if string(v) != "null" {
			return &Error{Code: EINVALID, Field: k, Message: fmt.Sprintf("%s must be a string or a number", k)}
		}
	}
	return nil
}
