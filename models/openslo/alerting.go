package openslo

import (
	"fmt"
	"sort"
	"strings"
)

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
