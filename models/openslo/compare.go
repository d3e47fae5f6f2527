package openslo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// CompareService lists what applying x would change in the stored service.
func CompareService(s models.Service, x Service) []string {
	in := x.Input
	if err := in.Validate(); err != nil {
		return nil
	}
	var out []string
	out = differ(out, "description", s.Description, in.Description)
	out = differ(out, "team", s.Team, in.Team)
	out = differ(out, "tier", s.Tier, in.Tier)
	out = differ(out, "display name", s.DisplayName, x.DisplayName)
	out = differ(out, "labels", s.Labels, x.Labels)
	out = differ(out, "annotations", s.Annotations, x.Annotations)
	return out
}

// CompareSLO lists what applying x would change in the stored SLO d, apart from
// its target history (see MergeHistory). Input tells the SLO's own settings apart
// from the OpenSLO metadata kept beside them: the store applies them differently.
func CompareSLO(d models.SLODetail, x SLO, v models.ValidSLO) (input, meta []string) {
	in := x.Input
	input = differ(input, "service", d.Service.Name, in.Service)
	input = differ(input, "display name", d.DisplayName, v.SLO.DisplayName)
	input = differ(input, "description", d.Description, v.SLO.Description)
	input = differ(input, "window", d.WindowSpec, v.SLO.WindowSpec)
	input = differ(input, "time zone", d.TimeZone, v.SLO.TimeZone)
	input = differ(input, "latency fields", d.LatencyFields, v.SLO.LatencyFields)
	input = differ(input, "feed", d.Feed.Name, in.Feed)
	b, o := d.Binding, v.Binding
	input = differ(input, "series", b.Series, o.Series)
	input = differ(input, "indicator", string(b.Indicator), string(o.Indicator))
	input = differ(input, "good field", b.GoodField, o.GoodField)
	input = differ(input, "bad field", b.BadField, o.BadField)
	input = differ(input, "total field", b.TotalField, o.TotalField)
	input = differ(input, "value field", b.ValueField, o.ValueField)
	input = differ(input, "op", b.Op, o.Op)
	input = differ(input, "threshold", fmtFloat(b.Threshold), fmtFloat(o.Threshold))
	input = differ(input, "budgeting method", string(b.Method()), string(o.Method()))
	input = differ(input, "time-slice target", fmtFloat(b.SliceTarget), fmtFloat(o.SliceTarget))
	meta = differ(meta, "objective name", d.ObjectiveName, x.ObjectiveName)
	meta = differ(meta, "objective of", d.ObjectiveOf, x.ObjectiveOf)
	meta = differ(meta, "objective index", strconv.Itoa(d.ObjectiveIndex), strconv.Itoa(x.ObjectiveIndex))
	meta = differ(meta, "labels", d.Labels, x.Labels)
	meta = differ(meta, "annotations", d.Annotations, x.Annotations)
	meta = differ(meta, "OpenSLO details (indicator metadata, alert policies)", d.OpenSLO, x.Extras)
	return input, meta
}

// MergeHistory says which target changes the file adds to the stored history:
// none when the file's history is (a prefix of) the stored one, the rest when the
// stored one is a prefix of the file's. Any other difference rewrites the past,
// which an import does not do: that is an error saying where they part.
func MergeHistory(stored, file []models.TargetChange, now time.Time, where string) ([]models.TargetChange, error) {
	path := fmt.Sprintf("metadata.annotations[%q]", HistoryAnnotation)
	for _, c := range file {
		if c.From.After(now) {
			return nil, at(where, path, "a target from %s is in the future: a history records changes made", c.From.Format(time.RFC3339))
		}
	}
	switch {
	case file == nil || HasPrefix(stored, file):
		return nil, nil
	case HasPrefix(file, stored):
		return file[len(stored):], nil
	}
	i := 0
	for i < len(stored) && i < len(file) && stored[i].From.Equal(file[i].From) && stored[i].Target == file[i].Target {
		i++
	}
	return nil, at(where, path, "disagrees with the stored target history from change %d on (stored: %s; file: %s): "+
		"an import does not rewrite past targets; remove the annotation to keep the stored history and apply the objective's target from now",
		i+1, DescribeHistory(stored[i:]), DescribeHistory(file[i:]))
}

func differ(out []string, what, before, after string) []string {
	if before == after {
		return out
	}
	return append(out, fmt.Sprintf("%s: %q → %q", what, before, after))
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
