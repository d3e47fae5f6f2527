package openslo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/sitemetrics/sitemetrics/models"
	"go.yaml.in/yaml/v3"
)

const (
	openSLOVersion       = "openslo/v1"
	latencyAnnotation    = "sitemetrics.io/latency-fields"
	sitemetricsSourceKey = "sitemetrics"
)

// Plan is what an OpenSLO file would change, checked but not applied.
type Plan struct {
	Services []models.ServiceInput
	SLOs     []models.SLOInput
}

// Parse reads every document of an OpenSLO v1 file. Anything it
// does not support is an error naming the document and the field.
func Parse(r io.Reader) (Plan, error) {
	dec := yaml.NewDecoder(r)
	var docs []map[string]any
	for i := 1; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Plan{}, models.Errorf(models.EINVALID, "document %d: the YAML does not parse: %v", i, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return Plan{}, models.Errorf(models.EINVALID, "no OpenSLO documents in the file")
	}
	var plan Plan
	slis := map[string]map[string]any{}
	seen := map[string]bool{}
	var slos []map[string]any
	for i, doc := range docs {
		kind, _ := doc["kind"].(string)
		name := nested(doc, "metadata", "name")
		where := fmt.Sprintf("document %d (%s %q)", i+1, kind, name)
		if v, _ := doc["apiVersion"].(string); v != openSLOVersion {
			return plan, models.Errorf(models.EINVALID, "%s: apiVersion is %q; only %s is supported", where, v, openSLOVersion)
		}
		if name == "" {
			return plan, models.Errorf(models.EINVALID, "%s: metadata.name is required", where)
		}
		if seen[kind+"/"+name] {
			return plan, models.Errorf(models.EINVALID, "%s: two %s documents are named %q", where, kind, name)
		}
		seen[kind+"/"+name] = true
		if err := onlyKeys(doc, where, "", "apiVersion", "kind", "metadata", "spec"); err != nil {
			return plan, err
		}
		if err := onlyKeys(asMap(doc["metadata"]), where, "metadata.", "name", "displayName", "labels", "annotations"); err != nil {
			return plan, err
		}
		switch kind {
		case "Service":
			spec := asMap(doc["spec"])
			if err := onlyKeys(spec, where, "spec.", "description"); err != nil {
				return plan, err
			}
			plan.Services = append(plan.Services, models.ServiceInput{Name: name, Description: str(spec["description"]),
				Team: label(doc, "team"), Tier: label(doc, "tier")})
		case "SLI":
			slis[name] = doc
		case "SLO":
			slos = append(slos, doc)
		default:
			return plan, models.Errorf(models.EINVALID, "%s: kind %q is not supported (use Service, SLI or SLO)", where, kind)
		}
	}
	for _, doc := range slos {
		in, err := sloFromOpenSLO(doc, slis)
		if err != nil {
			return plan, err
		}
		plan.SLOs = append(plan.SLOs, in)
	}
	return plan, nil
}

func sloFromOpenSLO(doc map[string]any, slis map[string]map[string]any) (models.SLOInput, error) {
	name := nested(doc, "metadata", "name")
	where := fmt.Sprintf("SLO %q", name)
	spec := asMap(doc["spec"])
	if err := onlyKeys(spec, where, "spec.", "service", "description", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives"); err != nil {
		return models.SLOInput{}, err
	}
	in := models.SLOInput{Name: name, DisplayName: nested(doc, "metadata", "displayName"), Description: str(spec["description"]),
		Service: str(spec["service"])}
	if a := asMap(asMap(doc["metadata"])["annotations"]); a != nil {
		in.LatencyFields = str(a[latencyAnnotation])
	}
	indicator := asMap(spec["indicator"])
	if ref := str(spec["indicatorRef"]); ref != "" {
		if indicator = slis[ref]; indicator == nil {
			return in, models.Errorf(models.EINVALID, "%s: spec.indicatorRef %q names no SLI document in the file", where, ref)
		}
	}
	if indicator == nil {
		return in, models.Errorf(models.EINVALID, "%s: spec.indicator (or spec.indicatorRef) is required", where)
	}
	ispec := asMap(indicator["spec"])
	if err := onlyKeys(ispec, where, "spec.indicator.spec.", "ratioMetric", "thresholdMetric"); err != nil {
		return in, err
	}
	method := str(spec["budgetingMethod"])
	switch {
	case ispec["ratioMetric"] != nil:
		in.Indicator = string(models.IndicatorRatio)
		if method != "" && method != "Occurrences" {
			return in, models.Errorf(models.EINVALID, "%s: budgetingMethod %q with a ratioMetric: only Occurrences is supported", where, method)
		}
		rm := asMap(ispec["ratioMetric"])
		if err := onlyKeys(rm, where, "ratioMetric.", "counter", "good", "bad", "total"); err != nil {
			return in, err
		}
		var err error
		var feed, series string
		for _, part := range []struct {
			key string
			dst *string
		}{{"good", &in.GoodField}, {"bad", &in.BadField}, {"total", &in.TotalField}} {
			if rm[part.key] == nil {
				continue
			}
			var f, s string
			if f, s, *part.dst, err = metricSource(rm[part.key], where, "ratioMetric."+part.key); err != nil {
				return in, err
			}
			if feed != "" && (f != feed || s != series) {
				return in, models.Errorf(models.EINVALID, "%s: ratioMetric.good/bad and total must read the same feed and series", where)
			}
			feed, series = f, s
		}
		in.Feed, in.Series = feed, series
	case ispec["thresholdMetric"] != nil:
		in.Indicator = string(models.IndicatorThreshold)
		if method != "" && method != "Timeslices" {
			return in, models.Errorf(models.EINVALID, "%s: budgetingMethod %q with a thresholdMetric: only Timeslices is supported", where, method)
		}
		var err error
		if in.Feed, in.Series, in.ValueField, err = metricSource(ispec["thresholdMetric"], where, "thresholdMetric"); err != nil {
			return in, err
		}
	default:
		return in, models.Errorf(models.EINVALID, "%s: the indicator needs a ratioMetric or a thresholdMetric", where)
	}
	windows, _ := spec["timeWindow"].([]any)
	if len(windows) != 1 {
		return in, models.Errorf(models.EINVALID, "%s: spec.timeWindow needs exactly one window", where)
	}
	tw := asMap(windows[0])
	if err := onlyKeys(tw, where, "timeWindow.", "duration", "isRolling", "calendar"); err != nil {
		return in, err
	}
	in.Window = str(tw["duration"])
	if rolling, _ := tw["isRolling"].(bool); !rolling {
		cal := asMap(tw["calendar"])
		if err := onlyKeys(cal, where, "timeWindow.calendar.", "startTime", "timeZone"); err != nil {
			return in, err
		}
		in.TimeZone = str(cal["timeZone"])
		switch in.Window {
		case "1M":
			in.Window = "month"
		case "1Q":
			in.Window = "quarter"
		default:
			return in, models.Errorf(models.EINVALID, "%s: calendar window %q: only 1M (month) and 1Q (quarter) are supported", where, in.Window)
		}
	}
	objectives, _ := spec["objectives"].([]any)
	if len(objectives) != 1 {
		return in, models.Errorf(models.EINVALID, "%s: spec.objectives needs exactly one objective", where)
	}
	o := asMap(objectives[0])
	if err := onlyKeys(o, where, "objectives[0].", "displayName", "target", "targetPercent", "op", "value"); err != nil {
		return in, err
	}
	switch {
	case o["targetPercent"] != nil:
		in.Target = fmt.Sprint(o["targetPercent"])
	case o["target"] != nil:
		f, err := strconv.ParseFloat(fmt.Sprint(o["target"]), 64)
		if err != nil {
			return in, &models.Error{Code: models.EINVALID, Field: "target", Message: fmt.Sprintf("%s: objectives[0].target %v is not a number", where, o["target"])}
		}
		in.Target = strconv.FormatFloat(f*100, 'f', -1, 64)
	default:
		return in, models.Errorf(models.EINVALID, "%s: objectives[0] needs a target (e.g. 0.999)", where)
	}
	if in.Indicator == string(models.IndicatorThreshold) {
		in.Op, in.Threshold = str(o["op"]), fmt.Sprint(o["value"])
	}
	if _, err := in.Validate(); err != nil {
		var e *models.Error
		if errors.As(err, &e) {
			return in, &models.Error{Code: models.EINVALID, Field: e.Field, Message: where + ": " + e.Message}
		}
		return in, err
	}
	return in, nil
}

// metricSource reads {metricSource: {type: sitemetrics, spec: {feed, series, field}}}.
func metricSource(v any, where, path string) (feed, series, field string, err error) {
	m := asMap(v)
	if err := onlyKeys(m, where, path+".", "metricSource"); err != nil {
		return "", "", "", err
	}
	ms := asMap(m["metricSource"])
	if err := onlyKeys(ms, where, path+".metricSource.", "type", "spec"); err != nil {
		return "", "", "", err
	}
	if t := str(ms["type"]); t != sitemetricsSourceKey {
		return "", "", "", models.Errorf(models.EINVALID, "%s: %s.metricSource.type is %q; only %q (a Sitemetrics feed) is supported", where, path, t, sitemetricsSourceKey)
	}
	spec := asMap(ms["spec"])
	if err := onlyKeys(spec, where, path+".metricSource.spec.", "feed", "series", "field"); err != nil {
		return "", "", "", err
	}
	return str(spec["feed"]), str(spec["series"]), str(spec["field"]), nil
}

func onlyKeys(m map[string]any, where, prefix string, allowed ...string) error {
	var bad []string
	for k := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			bad = append(bad, prefix+k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return models.Errorf(models.EINVALID, "%s: not supported by Sitemetrics: %s", where, strings.Join(bad, ", "))
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func nested(m map[string]any, keys ...string) string {
	for _, k := range keys[:len(keys)-1] {
		m = asMap(m[k])
	}
	return str(m[keys[len(keys)-1]])
}

func label(doc map[string]any, key string) string {
	switch v := asMap(asMap(doc["metadata"])["labels"])[key].(type) {
	case string:
		return v
	case []any:
		if len(v) > 0 {
			return fmt.Sprint(v[0])
		}
	}
	return ""
}

func openSLODoc(d models.SLODetail) map[string]any {
	b := d.Binding
	source := func(field string) map[string]any {
		return map[string]any{"metricSource": map[string]any{"type": sitemetricsSourceKey,
			"spec": map[string]any{"feed": d.Feed.Name, "series": b.Series, "field": field}}}
	}
	ispec := map[string]any{}
	objective := map[string]any{"displayName": d.Title(), "target": d.Targets[len(d.Targets)-1].Target}
	method := "Occurrences"
	if b.Indicator == models.IndicatorThreshold {
		ispec["thresholdMetric"] = source(b.ValueField)
		objective["op"], objective["value"] = b.Op, b.Threshold
		method = "Timeslices"
	} else {
		rm := map[string]any{"counter": true, "total": source(b.TotalField)}
		if b.GoodField != "" {
			rm["good"] = source(b.GoodField)
		} else {
			rm["bad"] = source(b.BadField)
		}
		ispec["ratioMetric"] = rm
	}
	w := d.Window()
	window := map[string]any{"duration": w.Spec(), "isRolling": true}
	if w.Calendar() {
		window = map[string]any{"duration": map[bool]string{true: "1M", false: "1Q"}[w.Kind() == models.WindowMonth], "isRolling": false,
			"calendar": map[string]any{"startTime": "2020-01-01 00:00:00", "timeZone": w.TimeZone()}}
	}
	meta := map[string]any{"name": d.Name}
	if d.DisplayName != "" {
		meta["displayName"] = d.DisplayName
	}
	if d.LatencyFields != "" {
		meta["annotations"] = map[string]any{latencyAnnotation: d.LatencyFields}
	}
	spec := map[string]any{"service": d.Service.Name, "budgetingMethod": method, "timeWindow": []any{window},
		"objectives": []any{objective}, "indicator": map[string]any{"metadata": map[string]any{"name": d.Name + "-sli"}, "spec": ispec}}
	if d.Description != "" {
		spec["description"] = d.Description
	}
	return map[string]any{"apiVersion": openSLOVersion, "kind": "SLO", "metadata": meta, "spec": spec}
}

// str is v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// Export writes services and SLOs as OpenSLO v1 documents, one YAML stream.
func Export(services []models.Service, slos []models.SLODetail) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, x := range services {
		meta := map[string]any{"name": x.Name}
		labels := map[string]any{}
		if x.Team != "" {
			labels["team"] = x.Team
		}
		if x.Tier != "" {
			labels["tier"] = x.Tier
		}
		if len(labels) > 0 {
			meta["labels"] = labels
		}
		if err := enc.Encode(map[string]any{"apiVersion": openSLOVersion, "kind": "Service", "metadata": meta,
			"spec": map[string]any{"description": x.Description}}); err != nil {
			return nil, err
		}
	}
	for _, d := range slos {
		if err := enc.Encode(openSLODoc(d)); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
