package openslo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/sitemetrics/sitemetrics/models"
	"go.yaml.in/yaml/v3"
)

// Export writes services, alerting documents and SLOs as OpenSLO v1 documents, one
// YAML stream. The SLOs that are objectives of one OpenSLO SLO become one document
// again. Importing the result changes nothing, and exporting again gives the same bytes.
func Export(services []models.Service, slos []models.SLODetail, alerting []Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, x := range services {
		if err := enc.Encode(serviceDocument(x)); err != nil {
			return nil, err
		}
	}
	sort.Slice(alerting, func(i, j int) bool {
		if alerting[i].Kind != alerting[j].Kind {
			return alerting[i].Kind < alerting[j].Kind
		}
		return alerting[i].Name < alerting[j].Name
	})
	for _, d := range alerting {
		var body any
		if err := json.Unmarshal([]byte(d.Body), &body); err != nil {
			return nil, fmt.Errorf("export %s %s: %w", d.Kind, d.Name, err)
		}
		if err := enc.Encode(body); err != nil {
			return nil, err
		}
	}
	for _, group := range groups(slos) {
		if err := enc.Encode(sloDocument(group)); err != nil {
			return nil, err
		}
	}
	if len(services)+len(alerting)+len(slos) == 0 {
		return []byte{}, nil // an empty stream: the encoder refuses to close one
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func serviceDocument(x models.Service) map[string]any {
	meta := map[string]any{"name": x.Name}
	if x.DisplayName != "" {
		meta["displayName"] = x.DisplayName
	}
	labels := decodeObject(x.Labels)
	if x.Team != "" {
		labels["team"] = x.Team
	}
	if x.Tier != "" {
		labels["tier"] = x.Tier
	}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	if a := decodeObject(x.Annotations); len(a) > 0 {
		meta["annotations"] = a
	}
	return map[string]any{"apiVersion": openSLOVersion, "kind": "Service", "metadata": meta,
		"spec": map[string]any{"description": x.Description}}
}

// groups puts the objectives of one OpenSLO SLO together, in order, and every other
// SLO alone. Objectives that no longer fit one document (one was deleted, or edited
// apart from the others) are written alone, under their own names.
func groups(slos []models.SLODetail) [][]models.SLODetail {
	byGroup := map[string][]models.SLODetail{}
	var order []string
	for _, d := range slos {
		key := d.Name
		if d.ObjectiveOf != "" {
			key = d.ObjectiveOf
		}
		if _, ok := byGroup[key]; !ok {
			order = append(order, key)
		}
		byGroup[key] = append(byGroup[key], d)
	}
	sort.Strings(order)
	var out [][]models.SLODetail
	for _, key := range order {
		members := byGroup[key]
		sort.SliceStable(members, func(i, j int) bool { return members[i].ObjectiveIndex < members[j].ObjectiveIndex })
		if len(members) > 1 && fitTogether(key, members) {
			out = append(out, members)
			continue
		}
		for _, d := range members {
			if len(members) > 1 || d.Name != key {
				d.ObjectiveOf, d.ObjectiveIndex = "", 0
			}
			out = append(out, []models.SLODetail{d})
		}
	}
	return out
}

func fitTogether(group string, members []models.SLODetail) bool {
	first := canonical(sloLevel(members[0]))
	for i, d := range members {
		name := group
		if i > 0 {
			name = group + "." + strconv.Itoa(i+1)
		}
		if d.ObjectiveIndex != i || d.Name != name || canonical(sloLevel(d)) != first {
			return false
		}
	}
	return true
}

// sloLevel is what the objectives of one OpenSLO SLO share.
func sloLevel(d models.SLODetail) map[string]any {
	doc := sloDocument([]models.SLODetail{d})
	spec := doc["spec"].(map[string]any)
	delete(spec, "objectives")
	meta := doc["metadata"].(map[string]any)
	delete(meta, "name")
	if a, ok := meta["annotations"].(map[string]any); ok {
		delete(a, HistoryAnnotation)
	}
	return doc
}

func sloDocument(members []models.SLODetail) map[string]any {
	d := members[0]
	name := d.Name
	if d.ObjectiveOf != "" {
		name = d.ObjectiveOf
	}
	var ex extras
	if d.OpenSLO != "" {
		_ = json.Unmarshal([]byte(d.OpenSLO), &ex)
	}
	if ex.Indicator == nil {
		ex.Indicator = &indicatorExtras{}
	}
	b := d.Binding
	source := func(field string) map[string]any {
		return map[string]any{"metricSource": map[string]any{"type": sitemetricsSourceKey,
			"spec": map[string]any{"feed": d.Feed.Name, "series": b.Series, "field": field}}}
	}
	ispec := map[string]any{}
	if ex.Indicator.Description != "" {
		ispec["description"] = ex.Indicator.Description
	}
	if b.Indicator == models.IndicatorThreshold {
		ispec["thresholdMetric"] = source(b.ValueField)
	} else {
		rm := map[string]any{"counter": !ex.Indicator.NotCounter, "total": source(b.TotalField)}
		if b.GoodField != "" {
			rm["good"] = source(b.GoodField)
		} else {
			rm["bad"] = source(b.BadField)
		}
		ispec["ratioMetric"] = rm
	}
	imeta := map[string]any{"name": name + "-sli"}
	if ex.Indicator.Name != "" {
		imeta["name"] = ex.Indicator.Name
	}
	if ex.Indicator.DisplayName != "" {
		imeta["displayName"] = ex.Indicator.DisplayName
	}
	if len(ex.Indicator.Labels) > 0 {
		imeta["labels"] = ex.Indicator.Labels
	}
	if len(ex.Indicator.Annotations) > 0 {
		imeta["annotations"] = ex.Indicator.Annotations
	}
	method := "Occurrences"
	if b.Method() == models.BudgetTimeslices {
		method = "Timeslices"
	}
	objectives := make([]any, len(members))
	histories := make([][]models.TargetChange, len(members))
	for i, m := range members {
		objectives[i] = objective(m, method)
		histories[i] = History(m)
	}
	w := d.Window()
	window := map[string]any{"duration": w.Spec(), "isRolling": true}
	if w.Calendar() {
		window = map[string]any{"duration": map[bool]string{true: "1M", false: "1Q"}[w.Kind() == models.WindowMonth], "isRolling": false,
			"calendar": map[string]any{"startTime": "2020-01-01 00:00:00", "timeZone": w.TimeZone()}}
	}
	meta := map[string]any{"name": name}
	if d.DisplayName != "" {
		meta["displayName"] = d.DisplayName
	}
	if l := decodeObject(d.Labels); len(l) > 0 {
		meta["labels"] = l
	}
	annotations := decodeObject(d.Annotations)
	if d.LatencyFields != "" {
		annotations[LatencyAnnotation] = d.LatencyFields
	}
	if h := formatHistory(histories); h != "" {
		annotations[HistoryAnnotation] = h
	}
	if len(annotations) > 0 {
		meta["annotations"] = annotations
	}
	spec := map[string]any{"service": d.Service.Name, "budgetingMethod": method, "timeWindow": []any{window},
		"objectives": objectives, "indicator": map[string]any{"metadata": imeta, "spec": ispec}}
	if d.Description != "" {
		spec["description"] = d.Description
	}
	if len(ex.AlertPolicies) > 0 {
		spec["alertPolicies"] = ex.AlertPolicies
	}
	return map[string]any{"apiVersion": openSLOVersion, "kind": "SLO", "metadata": meta, "spec": spec}
}

func objective(d models.SLODetail, method string) map[string]any {
	o := map[string]any{}
	if len(d.Targets) > 0 {
		o["target"] = d.Targets[len(d.Targets)-1].Target
	}
	if d.ObjectiveName != "" {
		o["displayName"] = d.ObjectiveName
	}
	b := d.Binding
	if b.Indicator == models.IndicatorThreshold {
		o["op"], o["value"] = b.Op, b.Threshold
	}
	if method == "Timeslices" {
		// One sample is one slice: a threshold slice is all good or all bad, so its
		// slice target is 1 unless the file said otherwise.
		st := b.SliceTarget
		if st == 0 {
			st = 1
		}
		o["timeSliceTarget"] = st
		o["timeSliceWindow"] = FormatSliceWindow(d.Feed.Interval())
	}
	return o
}

// decodeObject reads a stored JSON object; empty for "".
func decodeObject(s string) map[string]any {
	out := map[string]any{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	return out
}
