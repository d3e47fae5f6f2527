package openslo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"go.yaml.in/yaml/v3"
)

// object is one OpenSLO document of the file, with where it was.
type object struct {
	body       map[string]any
	kind, name string
	index      int // 1-based, counting the items of top-level lists
}

func (o object) where() string {
	return fmt.Sprintf("document %d (%s %q)", o.index, o.kind, o.name)
}

// at builds the error for a path inside the document: document, YAML path, sentence.
func at(where, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	return &models.Error{Code: models.EINVALID, Field: path, Message: where + ", " + msg}
}

// Parse reads an OpenSLO v1 file: one or several YAML (or JSON) documents, each an
// object or a list of objects. Every construct that has a meaning in Sitemetrics is
// read; anything else is refused with the document, the YAML path and a sentence.
func Parse(r io.Reader) (Plan, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Plan{}, models.Errorf(models.EINVALID, "could not read the file: %v", err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	objects, err := readObjects(raw)
	if err != nil {
		return Plan{}, err
	}
	var plan Plan
	slis := map[string]object{}
	var slos []object
	seen := map[string]bool{}
	for _, o := range objects {
		if v, _ := o.body["apiVersion"].(string); v != openSLOVersion {
			return plan, at(o.where(), "apiVersion", "is %q; only %s is supported (earlier drafts such as v1alpha differ in shape: convert the file to v1)", v, openSLOVersion)
		}
		if !nameRE.MatchString(o.name) {
			return plan, at(o.where(), "metadata.name", "%q is not a name: use 1–63 lowercase letters, digits or '-' (OpenSLO names follow RFC 1123), e.g. checkout-latency", o.name)
		}
		if seen[o.kind+"/"+o.name] {
			return plan, at(o.where(), "metadata.name", "two %s documents are named %q", o.kind, o.name)
		}
		seen[o.kind+"/"+o.name] = true
		if err := onlyKeys(o.body, o.where(), "", "apiVersion", "kind", "metadata", "spec"); err != nil {
			return plan, err
		}
		switch o.kind {
		case "Service":
			svc, err := parseService(o)
			if err != nil {
				return plan, err
			}
			plan.Services = append(plan.Services, svc)
		case "SLI":
			if _, _, err := metadata(o.body, o.where(), ""); err != nil {
				return plan, err
			}
			slis[o.name] = o
		case "SLO":
			slos = append(slos, o)
		case "AlertPolicy", "AlertCondition", "AlertNotificationTarget":
			if err := checkAlerting(o.body, o.kind, o.where(), ""); err != nil {
				return plan, err
			}
			plan.Alerting = append(plan.Alerting, Document{Kind: o.kind, Name: o.name, Body: canonical(o.body)})
			plan.Notices = append(plan.Notices, fmt.Sprintf("%s %q: parsed and kept, not applied (Sitemetrics has no notification channels yet)", o.kind, o.name))
		case "DataSource":
			return plan, at(o.where(), "kind", "a DataSource has no meaning here: Sitemetrics reads its own feeds; "+
				"write metricSource: {type: sitemetrics, spec: {feed: NAME, series: VALUE, field: FIELD}} in the SLI instead")
		default:
			return plan, at(o.where(), "kind", "%q is not an OpenSLO v1 kind that Sitemetrics reads (Service, SLI, SLO, AlertPolicy, AlertCondition, AlertNotificationTarget)", o.kind)
		}
	}
	names := map[string]string{}
	for _, o := range slos {
		list, notices, err := parseSLO(o, slis)
		if err != nil {
			return plan, err
		}
		for _, x := range list {
			if other, ok := names[x.Input.Name]; ok {
				return plan, at(x.Where, "metadata.name", "makes SLO %q, a name %s makes too: an objective at index i of SLO NAME is named NAME.<i+1>", x.Input.Name, other)
			}
			names[x.Input.Name] = x.Where
		}
		plan.SLOs = append(plan.SLOs, list...)
		plan.Notices = append(plan.Notices, notices...)
	}
	return plan, nil
}

// readObjects splits the file into objects: documents, and items of top-level lists.
func readObjects(raw []byte) ([]object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var out []object
	for doc := 1; ; doc++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, models.Errorf(models.EINVALID, "document %d: the YAML does not parse: %v", doc, err)
		}
		items := []any{v}
		if list, ok := v.([]any); ok {
			items = list
		}
		for _, item := range items {
			if item == nil {
				continue
			}
			m, ok := item.(map[string]any)
			index := len(out) + 1
			if !ok {
				return nil, models.Errorf(models.EINVALID, "document %d is %s, not an OpenSLO object (apiVersion, kind, metadata, spec)", index, kindOf(item))
			}
			out = append(out, object{body: m, kind: str(m["kind"]), name: nested(m, "metadata", "name"), index: index})
		}
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.EINVALID, "no OpenSLO documents in the file")
	}
	return out, nil
}

var (
	dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// nameRE is Sitemetrics' own name rule, wider than RFC 1123 ('.' and '_'), so that
	// every export imports again.
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	labelKeyRE  = regexp.MustCompile(`^[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)
	annotKeyRE  = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?[a-zA-Z0-9]([-._a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$`)
	shorthandRE = regexp.MustCompile(`^([0-9]+)([mhdwMQY])$`)
)

// metadata checks metadata and returns its labels and annotations as maps.
func metadata(body map[string]any, where, prefix string) (labels map[string]any, annotations map[string]string, err error) {
	meta, ok := body["metadata"].(map[string]any)
	if !ok {
		return nil, nil, at(where, prefix+"metadata", "is required, with at least a name")
	}
	if err := onlyKeys(meta, where, prefix+"metadata.", "name", "displayName", "labels", "annotations"); err != nil {
		return nil, nil, err
	}
	if v, ok := meta["displayName"]; ok && !isString(v) {
		return nil, nil, at(where, prefix+"metadata.displayName", "must be text")
	}
	if v, ok := meta["labels"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, at(where, prefix+"metadata.labels", "must be a mapping of names to a value or a list of values")
		}
		for k, val := range m {
			path := fmt.Sprintf("%smetadata.labels[%q]", prefix, k)
			if !labelKeyRE.MatchString(k) {
				return nil, nil, at(where, path, "is not a label name: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit")
			}
			switch x := val.(type) {
			case string:
			case []any:
				for _, e := range x {
					if !isString(e) {
						return nil, nil, at(where, path, "a label's values must be text")
					}
				}
			default:
				return nil, nil, at(where, path, "must be text or a list of texts")
			}
		}
		labels = m
	}
	if v, ok := meta["annotations"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil, at(where, prefix+"metadata.annotations", "must be a mapping of names to text")
		}
		annotations = map[string]string{}
		for k, val := range m {
			path := fmt.Sprintf("%smetadata.annotations[%q]", prefix, k)
			if !annotKeyRE.MatchString(k) {
				return nil, nil, at(where, path, "is not an annotation name: an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_' or '.'")
			}
			s, ok := val.(string)
			if !ok {
				return nil, nil, at(where, path, "must be text (quote it)")
			}
			annotations[k] = s
		}
	}
	return labels, annotations, nil
}

func parseService(o object) (Service, error) {
	labels, annotations, err := metadata(o.body, o.where(), "")
	if err != nil {
		return Service{}, err
	}
	spec, err := specOf(o.body, o.where(), "spec", false)
	if err != nil {
		return Service{}, err
	}
	if err := onlyKeys(spec, o.where(), "spec.", "description"); err != nil {
		return Service{}, err
	}
	team, tier := firstValue(labels["team"]), firstValue(labels["tier"])
	rest := map[string]any{}
	for k, v := range labels {
		if k != "team" && k != "tier" {
			rest[k] = v
		}
	}
	return Service{
		Input:       models.ServiceInput{Name: o.name, Description: str(spec["description"]), Team: team, Tier: tier},
		DisplayName: nested(o.body, "metadata", "displayName"), Labels: canonicalMap(rest), Annotations: canonicalStrings(annotations),
		Where: o.where(),
	}, nil
}

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

func parseSLO(o object, slis map[string]object) ([]SLO, []string, error) {
	where := o.where()
	labels, annotations, err := metadata(o.body, where, "")
	if err != nil {
		return nil, nil, err
	}
	spec, err := specOf(o.body, where, "spec", true)
	if err != nil {
		return nil, nil, err
	}
	if err := onlyKeys(spec, where, "spec.", "description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives", "alertPolicies"); err != nil {
		return nil, nil, err
	}
	base := models.SLOInput{Name: o.name, DisplayName: nested(o.body, "metadata", "displayName"), Description: str(spec["description"]), Service: str(spec["service"])}
	if base.Service == "" {
		return nil, nil, at(where, "spec.service", "is required: the name of the service this SLO is about")
	}
	base.LatencyFields = annotations[LatencyAnnotation]
	histories, err := parseHistory(annotations[HistoryAnnotation], where)
	if err != nil {
		return nil, nil, err
	}
	delete(annotations, LatencyAnnotation)
	delete(annotations, HistoryAnnotation)

	ind, err := findIndicator(spec, slis, where)
	if err != nil {
		return nil, nil, err
	}
	ex := extras{Indicator: &indicatorExtras{}}
	if err := readIndicator(ind, &base, ex.Indicator); err != nil {
		return nil, nil, err
	}
	if ex.Indicator.Name == o.name+"-sli" {
		ex.Indicator.Name = ""
	}
	if ex.Indicator.empty() {
		ex.Indicator = nil
	}
	if err := readTimeWindow(spec["timeWindow"], where, &base); err != nil {
		return nil, nil, err
	}
	method, err := readBudgeting(spec["budgetingMethod"], where, base.Indicator)
	if err != nil {
		return nil, nil, err
	}
	base.Budgeting = string(method)
	policies, refs, notices, err := readAlertPolicies(spec["alertPolicies"], where, o.name)
	if err != nil {
		return nil, nil, err
	}
	ex.AlertPolicies = policies

	list, ok := spec["objectives"].([]any)
	if !ok || len(list) == 0 {
		return nil, nil, at(where, "spec.objectives", "needs at least one objective, e.g. [{displayName: Availability, target: 0.999}]")
	}
	for i := range histories {
		if i >= len(list) {
			return nil, nil, at(where, fmt.Sprintf("metadata.annotations[%q]", HistoryAnnotation), "has targets for objective %d, but the SLO has %d objective(s)", i, len(list))
		}
	}
	var out []SLO
	for i, item := range list {
		path := fmt.Sprintf("spec.objectives[%d]", i)
		x := SLO{Input: base, Labels: canonicalMap(labels), Annotations: canonicalStrings(annotations), Extras: canonical(ex),
			ObjectiveIndex: i, History: histories[i], AlertPolicyRefs: refs, Where: where}
		if len(list) > 1 {
			x.ObjectiveOf = o.name
			x.Where = where + ", " + path
			if i > 0 {
				x.Input.Name = o.name + "." + strconv.Itoa(i+1)
				if len(x.Input.Name) > 63 {
					return nil, nil, at(where, path, "objective %d would be SLO %q, longer than 63 characters: shorten metadata.name", i+1, x.Input.Name)
				}
			}
		}
		if err := readObjective(item, where, path, method, &x); err != nil {
			return nil, nil, err
		}
		if _, err := x.Input.Validate(); err != nil {
			var e *models.Error
			if errors.As(err, &e) {
				return nil, nil, at(where, fieldPath(e.Field, path), "%s", e.Message)
			}
			return nil, nil, err
		}
		out = append(out, x)
	}
	return out, notices, nil
}

// fieldPath maps an SLOInput field to where it came from in the document.
func fieldPath(field, objective string) string {
	switch field {
	case "target":
		return objective + ".target"
	case "op":
		return objective + ".op"
	case "threshold":
		return objective + ".value"
	case "time_slice_target":
		return objective + ".timeSliceTarget"
	case "window":
		return "spec.timeWindow[0].duration"
	case "time_zone":
		return "spec.timeWindow[0].calendar.timeZone"
	case "name":
		return "metadata.name"
	case "display_name":
		return "metadata.displayName"
	case "latency_fields":
		return fmt.Sprintf("metadata.annotations[%q]", LatencyAnnotation)
	case "budgeting_method":
		return "spec.budgetingMethod"
	case "feed", "series", "good_field", "bad_field", "total_field", "value_field", "indicator":
		return "spec.indicator"
	}
	return "spec"
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

func readAlertPolicies(v any, where, slo string) (kept []any, refs, notices []string, err error) {
	if v == nil {
		return nil, nil, nil, nil // an empty alertPolicies: is no policy
	}
	list, ok := v.([]any)
	if !ok {
		return nil, nil, nil, at(where, "spec.alertPolicies", "must be a list of {alertPolicyRef: NAME} or inline AlertPolicy documents")
	}
	for i, item := range list {
		path := fmt.Sprintf("spec.alertPolicies[%d]", i)
		m, ok := item.(map[string]any)
		if !ok {
			return nil, nil, nil, at(where, path, "must be {alertPolicyRef: NAME} or an inline AlertPolicy")
		}
		if ref, ok := m["alertPolicyRef"]; ok {
			if err := onlyKeys(m, where, path+".", "alertPolicyRef"); err != nil {
				return nil, nil, nil, err
			}
			name, _ := ref.(string)
			if !dnsLabelRE.MatchString(name) {
				return nil, nil, nil, at(where, path+".alertPolicyRef", "%q is not the name of an AlertPolicy", fmt.Sprint(ref))
			}
			refs = append(refs, name)
		} else {
			if err := onlyKeys(m, where, path+".", "kind", "metadata", "spec"); err != nil {
				return nil, nil, nil, err
			}
			if err := checkAlerting(m, "AlertPolicy", where, path+"."); err != nil {
				return nil, nil, nil, err
			}
			notices = append(notices, fmt.Sprintf("SLO %q: alert policy %q parsed and kept, not applied (Sitemetrics has no notification channels yet)", slo, nested(m, "metadata", "name")))
		}
		kept = append(kept, item)
	}
	for _, r := range refs {
		notices = append(notices, fmt.Sprintf("SLO %q: alert policy %q referred to, not applied (Sitemetrics has no notification channels yet)", slo, r))
	}
	return kept, refs, notices, nil
}

// checkAlerting checks the shape of an AlertPolicy, AlertCondition or
// AlertNotificationTarget (a document, or inline at prefix).
func checkAlerting(m map[string]any, kind, where, prefix string) error {
	if k := str(m["kind"]); k != kind {
		return at(where, prefix+"kind", "is %q, expected %s", k, kind)
	}
	if _, _, err := metadata(m, where, prefix); err != nil {
		return err
	}
	if n := nested(m, "metadata", "name"); !dnsLabelRE.MatchString(n) {
		return at(where, prefix+"metadata.name", "%q is not a name: use 1–63 lowercase letters, digits or '-'", n)
	}
	spec, err := specOf(m, where, prefix+"spec", true)
	if err != nil {
		return err
	}
	p := prefix + "spec."
	switch kind {
	case "AlertPolicy":
		if err := onlyKeys(spec, where, p, "description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions", "notificationTargets"); err != nil {
			return err
		}
		for _, k := range []string{"alertWhenNoData", "alertWhenResolved", "alertWhenBreaching"} {
			if v, ok := spec[k]; ok {
				if _, isBool := v.(bool); !isBool {
					return at(where, p+k, "must be true or false")
				}
			}
		}
		conds, _ := spec["conditions"].([]any)
		if len(conds) != 1 {
			return at(where, p+"conditions", "needs exactly one condition ({conditionRef: NAME} or an inline AlertCondition)")
		}
		if err := refOrInline(conds[0], "conditionRef", "AlertCondition", where, p+"conditions[0]"); err != nil {
			return err
		}
		targets, ok := spec["notificationTargets"].([]any)
		if !ok {
			return at(where, p+"notificationTargets", "is required: a list of {targetRef: NAME} or inline AlertNotificationTarget documents")
		}
		for i, t := range targets {
			if err := refOrInline(t, "targetRef", "AlertNotificationTarget", where, fmt.Sprintf("%snotificationTargets[%d]", p, i)); err != nil {
				return err
			}
		}
	case "AlertCondition":
		if err := onlyKeys(spec, where, p, "description", "severity", "condition"); err != nil {
			return err
		}
		if str(spec["severity"]) == "" {
			return at(where, p+"severity", "is required, e.g. page")
		}
		c, ok := spec["condition"].(map[string]any)
		if !ok {
			return at(where, p+"condition", "is required: {kind: burnrate, op, threshold, lookbackWindow}")
		}
		if err := onlyKeys(c, where, p+"condition.", "kind", "op", "threshold", "lookbackWindow", "alertAfter"); err != nil {
			return err
		}
		if k, ok := c["kind"]; ok && k != "burnrate" {
			return at(where, p+"condition.kind", "%q is not burnrate, the only kind OpenSLO v1 defines", fmt.Sprint(k))
		}
		if s, _ := c["op"].(string); s != "lte" && s != "lt" && s != "gte" && s != "gt" {
			return at(where, p+"condition.op", "is required: one of lte, lt, gte, gt")
		}
		if _, ok := number(c["threshold"]); !ok {
			return at(where, p+"condition.threshold", "is required: a number, e.g. 2")
		}
		for _, k := range []string{"lookbackWindow", "alertAfter"} {
			if v, ok := c[k]; ok || k == "lookbackWindow" {
				if !shorthandRE.MatchString(str(v)) {
					return at(where, p+"condition."+k, "%q is not a duration such as 1h", fmt.Sprint(v))
				}
			}
		}
	case "AlertNotificationTarget":
		if err := onlyKeys(spec, where, p, "description", "target"); err != nil {
			return err
		}
		if str(spec["target"]) == "" {
			return at(where, p+"target", "is required, e.g. email or slack")
		}
	}
	return nil
}

func refOrInline(v any, refKey, kind, where, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return at(where, path, "must be {%s: NAME} or an inline %s", refKey, kind)
	}
	if _, ok := m[refKey]; ok {
		if err := onlyKeys(m, where, path+".", refKey); err != nil {
			return err
		}
		if !dnsLabelRE.MatchString(str(m[refKey])) {
			return at(where, path+"."+refKey, "%q is not the name of an %s", fmt.Sprint(m[refKey]), kind)
		}
		return nil
	}
	if err := onlyKeys(m, where, path+".", "kind", "metadata", "spec"); err != nil {
		return err
	}
	return checkAlerting(m, kind, where, path+".")
}

// specOf returns the mapping at path (the document's spec), nil when absent and not required.
func specOf(m map[string]any, where, path string, required bool) (map[string]any, error) {
	key := path[strings.LastIndex(path, ".")+1:]
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return nil, at(where, path, "is required")
		}
		return map[string]any{}, nil
	}
	s, ok := v.(map[string]any)
	if !ok {
		return nil, at(where, path, "must be a mapping")
	}
	return s, nil
}

// onlyKeys refuses keys that have no meaning here, naming each with its path.
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
	return at(where, bad[0], "has no meaning in Sitemetrics (OpenSLO v1 fields read here: %s)", strings.Join(allowed, ", "))
}

// number reads a YAML number (not a quoted one).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// shiftDecimal moves the decimal point of a plain decimal by n places, exactly:
// shiftDecimal("0.999", 2) = "99.9", shiftDecimal("99.5", -2) = "0.995".
func shiftDecimal(s string, n int) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(s, ".")
	digits := intPart + frac
	point := len(intPart) + n
	for point > len(digits) {
		digits += "0"
	}
	for point <= 0 {
		digits = "0" + digits
		point++
	}
	out := strings.TrimLeft(digits[:point], "0")
	if out == "" {
		out = "0"
	}
	if rest := strings.TrimRight(digits[point:], "0"); rest != "" {
		out += "." + rest
	}
	if neg {
		out = "-" + out
	}
	return out
}

func isString(v any) bool { _, ok := v.(string); return ok }

// str is v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

func nested(m map[string]any, keys ...string) string {
	for _, k := range keys[:len(keys)-1] {
		m, _ = m[k].(map[string]any)
	}
	return str(m[keys[len(keys)-1]])
}

func firstValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) > 0 {
			return str(x[0])
		}
	}
	return ""
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "text"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case map[any]any:
		return "a mapping with keys that are not text"
	}
	return fmt.Sprintf("a %T", v)
}

// canonical is v as JSON with sorted keys ("" for nothing), so equal content compares equal.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "{}" || string(b) == "null" {
		return ""
	}
	return string(b)
}

func canonicalMap(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	return canonical(m)
}

func canonicalStrings(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return canonical(m)
}
