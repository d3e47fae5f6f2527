package openslo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

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
