package openslo

import (
	"github.com/sitemetrics/sitemetrics/models"
)

// indicator is the SLI an SLO reads, with where it was written.
type indicator struct {
	meta  map[string]any
	spec  map[string]any
	where string
	path  string // "spec.indicator" or "" for an SLI document
}

// extras is what Sitemetrics keeps of an SLO without acting on it.
type extras struct {
	Indicator     *indicatorExtras `json:"indicator,omitempty"`
	AlertPolicies []any            `json:"alertPolicies,omitempty"`
}

type indicatorExtras struct {
	Name        string            `json:"name,omitempty"` // when not "<slo>-sli"
	DisplayName string            `json:"displayName,omitempty"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]any    `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	NotCounter  bool              `json:"notCounter,omitempty"` // ratioMetric.counter: false
}

func (e *indicatorExtras) empty() bool {
	return e.Name == "" && e.DisplayName == "" && e.Description == "" && len(e.Labels) == 0 && len(e.Annotations) == 0 && !e.NotCounter
}

func findIndicator(spec map[string]any, slis map[string]object, where string) (indicator, error) {
	inline, hasInline := spec["indicator"]
	ref, hasRef := spec["indicatorRef"]
	switch {
	case hasInline && hasRef:
		return indicator{}, at(where, "spec.indicatorRef", "give spec.indicator or spec.indicatorRef, not both")
	case hasRef:
		name, _ := ref.(string)
		o, ok := slis[name]
		if !ok {
			return indicator{}, at(where, "spec.indicatorRef", "%q names no SLI document in the file", name)
		}
		s, err := specOf(o.body, o.where(), "spec", true)
		if err != nil {
			return indicator{}, err
		}
		m, _ := o.body["metadata"].(map[string]any)
		return indicator{meta: m, spec: s, where: o.where()}, nil
	case hasInline:
		m, ok := inline.(map[string]any)
		if !ok {
			return indicator{}, at(where, "spec.indicator", "must be an SLI: {metadata: {name: …}, spec: {ratioMetric: …} or {thresholdMetric: …}}")
		}
		if err := onlyKeys(m, where, "spec.indicator.", "metadata", "spec"); err != nil {
			return indicator{}, err
		}
		if _, _, err := metadata(m, where, "spec.indicator."); err != nil {
			return indicator{}, err
		}
		s, err := specOf(m, where, "spec.indicator.spec", true)
		if err != nil {
			return indicator{}, err
		}
		meta, _ := m["metadata"].(map[string]any)
		return indicator{meta: meta, spec: s, where: where, path: "spec.indicator."}, nil
	}
	if objs, ok := spec["objectives"].([]any); ok {
		for _, item := range objs {
			if m, ok := item.(map[string]any); ok && (m["indicator"] != nil || m["indicatorRef"] != nil) {
				return indicator{}, at(where, "spec.objectives", "an indicator per objective makes a composite SLO, which has no meaning here: "+
					"write one SLO per indicator (an SLO may have several objectives on one indicator)")
			}
		}
	}
	return indicator{}, at(where, "spec.indicator", "is required (or spec.indicatorRef naming an SLI document)")
}

func readIndicator(ind indicator, in *models.SLOInput, ex *indicatorExtras) error {
	where, p := ind.where, ind.path
	ex.Name, ex.DisplayName = str(ind.meta["name"]), str(ind.meta["displayName"])
	labels, annotations, err := metadata(map[string]any{"metadata": ind.meta}, where, p)
	if err != nil {
		return err
	}
	ex.Labels, ex.Annotations = labels, annotations
	if err := onlyKeys(ind.spec, where, p+"spec.", "description", "ratioMetric", "thresholdMetric"); err != nil {
		return err
	}
	ex.Description = str(ind.spec["description"])
	rm, hasRatio := ind.spec["ratioMetric"]
	tm, hasThreshold := ind.spec["thresholdMetric"]
	switch {
	case hasRatio && hasThreshold:
		return at(where, p+"spec", "give ratioMetric or thresholdMetric, not both")
	case hasThreshold:
		in.Indicator = string(models.IndicatorThreshold)
		var err error
		in.Feed, in.Series, in.ValueField, err = metricSource(tm, where, p+"spec.thresholdMetric")
		return err
	case !hasRatio:
		return at(where, p+"spec", "needs a ratioMetric (good and total events) or a thresholdMetric (a value against a threshold)")
	}
	in.Indicator = string(models.IndicatorRatio)
	m, ok := rm.(map[string]any)
	if !ok {
		return at(where, p+"spec.ratioMetric", "must be a mapping with good (or bad) and total")
	}
	if _, ok := m["raw"]; ok {
		return at(where, p+"spec.ratioMetric.raw", "a precomputed ratio cannot be added up into a budget: have the Splunk report send good and total counts")
	}
	if err := onlyKeys(m, where, p+"spec.ratioMetric.", "counter", "good", "bad", "total"); err != nil {
		return err
	}
	if c, ok := m["counter"]; ok {
		b, isBool := c.(bool)
		if !isBool {
			return at(where, p+"spec.ratioMetric.counter", "must be true or false")
		}
		ex.NotCounter = !b
	}
	if m["total"] == nil {
		return at(where, p+"spec.ratioMetric.total", "is required: the field counting all events")
	}
	if m["good"] != nil && m["bad"] != nil {
		return at(where, p+"spec.ratioMetric.bad", "give good or bad, not both")
	}
	if m["good"] == nil && m["bad"] == nil {
		return at(where, p+"spec.ratioMetric.good", "is required (or bad): the field counting good events")
	}
	var feed, series string
	for _, part := range []struct {
		key string
		dst *string
	}{{"good", &in.GoodField}, {"bad", &in.BadField}, {"total", &in.TotalField}} {
		if m[part.key] == nil {
			continue
		}
		f, s, field, err := metricSource(m[part.key], where, p+"spec.ratioMetric."+part.key)
		if err != nil {
			return err
		}
		if feed != "" && (f != feed || s != series) {
			return at(where, p+"spec.ratioMetric."+part.key, "reads feed %q series %q, but the other part reads feed %q series %q: good (or bad) and total come from the same Splunk rows", f, s, feed, series)
		}
		feed, series, *part.dst = f, s, field
	}
	in.Feed, in.Series = feed, series
	return nil
}

// metricSource reads {metricSource: {type: sitemetrics, spec: {feed, series, field}}}.
func metricSource(v any, where, path string) (feed, series, field string, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", "", "", at(where, path, "must be {metricSource: {type: sitemetrics, spec: {feed, series, field}}}")
	}
	if err := onlyKeys(m, where, path+".", "metricSource"); err != nil {
		return "", "", "", err
	}
	ms, ok := m["metricSource"].(map[string]any)
	if !ok {
		return "", "", "", at(where, path+".metricSource", "is required: {type: sitemetrics, spec: {feed, series, field}}")
	}
	if _, ok := ms["metricSourceRef"]; ok {
		return "", "", "", at(where, path+".metricSource.metricSourceRef", "refers to a DataSource, which has no meaning here: write type: sitemetrics with spec {feed, series, field}")
	}
	if err := onlyKeys(ms, where, path+".metricSource.", "type", "spec"); err != nil {
		return "", "", "", err
	}
	if t := str(ms["type"]); t != sitemetricsSourceKey {
		return "", "", "", at(where, path+".metricSource.type", "is %q, a source Sitemetrics does not read: only %q (a Sitemetrics feed) is, with spec {feed, series, field}", t, sitemetricsSourceKey)
	}
	spec, ok := ms["spec"].(map[string]any)
	if !ok {
		return "", "", "", at(where, path+".metricSource.spec", "is required: {feed: NAME, series: VALUE, field: FIELD}")
	}
	if err := onlyKeys(spec, where, path+".metricSource.spec.", "feed", "series", "field"); err != nil {
		return "", "", "", err
	}
	for _, k := range []string{"feed", "series", "field"} {
		if v, ok := spec[k]; ok && !isString(v) {
			return "", "", "", at(where, path+".metricSource.spec."+k, "must be text (quote it)")
		}
	}
	feed, series, field = str(spec["feed"]), str(spec["series"]), str(spec["field"])
	if feed == "" {
		return "", "", "", at(where, path+".metricSource.spec.feed", "is required: the name of the Sitemetrics feed")
	}
	if field == "" {
		return "", "", "", at(where, path+".metricSource.spec.field", "is required: the field of the Splunk rows to read")
	}
	return feed, series, field, nil
}
