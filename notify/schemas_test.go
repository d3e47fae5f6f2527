package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"
)

// The receivers below check bodies against the products' documented payloads: the
// fields each requires, their types, enumerations and length limits. A body that breaks
// a rule is answered 400, as the product would, and the test sees the error.

func object(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: not an object", path)
	}
	return m, nil
}

func str(m map[string]any, key, path string, required bool, max int) (string, error) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("%s.%s: required", path, key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.%s: not a string", path, key)
	}
	if required && s == "" {
		return "", fmt.Errorf("%s.%s: empty", path, key)
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return "", fmt.Errorf("%s.%s: %d characters, over %d", path, key, utf8.RuneCountInString(s), max)
	}
	return s, nil
}

func oneOf(s, path string, allowed ...string) error {
	if !slices.Contains(allowed, s) {
		return fmt.Errorf("%s: %q is not one of %v", path, s, allowed)
	}
	return nil
}

func absURL(s, path string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s: %q is not an absolute URL", path, s)
	}
	return nil
}

func rfc3339(s, path string) error {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Errorf("%s: %q is not RFC 3339", path, s)
	}
	return nil
}

// checkWebhook: the README's generic webhook body, every key present, types and enumerations.
func checkWebhook(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, k := range []string{"id", "status", "kind", "severity", "slo", "tier", "feed", "budget_remaining", "started_at", "sent_at"} {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("%s: missing", k)
		}
	}
	if _, err := str(m, "id", "", true, 0); err != nil {
		return err
	}
	if err := oneOf(m["status"].(string), "status", "firing", "resolved"); err != nil {
		return err
	}
	if err := oneOf(m["kind"].(string), "kind", "burn_rate", "stale_feed", "budget_exhausted", "test"); err != nil {
		return err
	}
	if err := oneOf(m["severity"].(string), "severity", "page", "ticket"); err != nil {
		return err
	}
	slo, err := object(m["slo"], "slo")
	if err != nil {
		return err
	}
	for _, k := range []string{"id", "name", "display_name", "service", "team", "url"} {
		if _, ok := slo[k]; !ok {
			return fmt.Errorf("slo.%s: missing", k)
		}
	}
	if m["tier"] != nil {
		tier, err := object(m["tier"], "tier")
		if err != nil {
			return err
		}
		for _, k := range []string{"factor", "long_rate", "short_rate"} {
			if _, ok := tier[k].(float64); !ok {
				return fmt.Errorf("tier.%s: not a number", k)
			}
		}
		for _, k := range []string{"name", "long_window", "short_window"} {
			if _, err := str(tier, k, "tier", true, 0); err != nil {
				return err
			}
		}
	} else if m["kind"] == "burn_rate" {
		return errors.New("tier: null on a burn_rate event")
	}
	if v := m["budget_remaining"]; v != nil {
		if _, ok := v.(float64); !ok {
			return errors.New("budget_remaining: not a number or null")
		}
	}
	for _, k := range []string{"started_at", "sent_at"} {
		if err := rfc3339(m[k].(string), k); err != nil {
			return err
		}
	}
	return nil
}

// checkSlack: an incoming webhook message with Block Kit blocks (header ≤ 150 plain-text
// characters; section text ≤ 3000, at most 10 fields of ≤ 2000; actions with buttons of
// ≤ 75-character text and a URL of ≤ 3000; context elements ≤ 10; at most 50 blocks).
func checkSlack(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if _, err := str(m, "text", "", true, 0); err != nil {
		return err
	}
	blocks, ok := m["blocks"].([]any)
	if !ok || len(blocks) == 0 || len(blocks) > 50 {
		return errors.New("blocks: 1 to 50 required")
	}
	text := func(v any, path string, types ...string) (string, error) {
		t, err := object(v, path)
		if err != nil {
			return "", err
		}
		typ, err := str(t, "type", path, true, 0)
		if err != nil {
			return "", err
		}
		if err := oneOf(typ, path+".type", types...); err != nil {
			return "", err
		}
		return str(t, "text", path, true, 0)
	}
	for i, raw := range blocks {
		p := fmt.Sprintf("blocks[%d]", i)
		blk, err := object(raw, p)
		if err != nil {
			return err
		}
		typ, _ := blk["type"].(string)
		switch typ {
		case "header":
			s, err := text(blk["text"], p+".text", "plain_text")
			if err != nil {
				return err
			}
			if utf8.RuneCountInString(s) > 150 {
				return fmt.Errorf("%s.text: over 150 characters", p)
			}
		case "section":
			if blk["text"] == nil && blk["fields"] == nil {
				return fmt.Errorf("%s: text or fields required", p)
			}
			if blk["text"] != nil {
				s, err := text(blk["text"], p+".text", "plain_text", "mrkdwn")
				if err != nil {
					return err
				}
				if utf8.RuneCountInString(s) > 3000 {
					return fmt.Errorf("%s.text: over 3000 characters", p)
				}
			}
			if f, ok := blk["fields"]; ok {
				fs, ok := f.([]any)
				if !ok || len(fs) > 10 {
					return fmt.Errorf("%s.fields: at most 10", p)
				}
				for j, x := range fs {
					s, err := text(x, fmt.Sprintf("%s.fields[%d]", p, j), "plain_text", "mrkdwn")
					if err != nil {
						return err
					}
					if utf8.RuneCountInString(s) > 2000 {
						return fmt.Errorf("%s.fields[%d]: over 2000 characters", p, j)
					}
				}
			}
		case "actions":
			els, ok := blk["elements"].([]any)
			if !ok || len(els) == 0 || len(els) > 25 {
				return fmt.Errorf("%s.elements: 1 to 25 required", p)
			}
			for j, x := range els {
				q := fmt.Sprintf("%s.elements[%d]", p, j)
				el, err := object(x, q)
				if err != nil {
					return err
				}
				if el["type"] != "button" {
					return fmt.Errorf("%s: only buttons are sent", q)
				}
				s, err := text(el["text"], q+".text", "plain_text")
				if err != nil {
					return err
				}
				if utf8.RuneCountInString(s) > 75 {
					return fmt.Errorf("%s.text: over 75 characters", q)
				}
				u, err := str(el, "url", q, false, 3000)
				if err != nil {
					return err
				}
				if u != "" {
					if err := absURL(u, q+".url"); err != nil {
						return err
					}
				}
			}
		case "context":
			els, ok := blk["elements"].([]any)
			if !ok || len(els) == 0 || len(els) > 10 {
				return fmt.Errorf("%s.elements: 1 to 10 required", p)
			}
			for j, x := range els {
				if _, err := text(x, fmt.Sprintf("%s.elements[%d]", p, j), "plain_text", "mrkdwn"); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s.type: %q is not a block type we send", p, typ)
		}
	}
	return nil
}

// checkTeams: a Workflows webhook message carrying one Adaptive Card (type AdaptiveCard,
// a version, a body of TextBlocks with text and FactSets whose facts have title and
// value; Action.OpenUrl actions with title and url).
func checkTeams(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m["type"] != "message" {
		return errors.New(`type: "message" required`)
	}
	atts, ok := m["attachments"].([]any)
	if !ok || len(atts) != 1 {
		return errors.New("attachments: one card expected")
	}
	att, err := object(atts[0], "attachments[0]")
	if err != nil {
		return err
	}
	if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
		return errors.New("attachments[0].contentType: not an Adaptive Card")
	}
	card, err := object(att["content"], "content")
	if err != nil {
		return err
	}
	if card["type"] != "AdaptiveCard" {
		return errors.New("content.type: AdaptiveCard required")
	}
	if v, _ := card["version"].(string); !regexp.MustCompile(`^1\.[0-6]$`).MatchString(v) {
		return fmt.Errorf("content.version: %q", v)
	}
	body, ok := card["body"].([]any)
	if !ok || len(body) == 0 {
		return errors.New("content.body: required")
	}
	for i, x := range body {
		p := fmt.Sprintf("body[%d]", i)
		el, err := object(x, p)
		if err != nil {
			return err
		}
		switch el["type"] {
		case "TextBlock":
			if _, err := str(el, "text", p, true, 0); err != nil {
				return err
			}
			if c, ok := el["color"].(string); ok {
				if err := oneOf(c, p+".color", "Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"); err != nil {
					return err
				}
			}
		case "FactSet":
			facts, ok := el["facts"].([]any)
			if !ok || len(facts) == 0 {
				return fmt.Errorf("%s.facts: required", p)
			}
			for j, f := range facts {
				fm, err := object(f, fmt.Sprintf("%s.facts[%d]", p, j))
				if err != nil {
					return err
				}
				if _, err := str(fm, "title", p, true, 0); err != nil {
					return err
				}
				if _, err := str(fm, "value", p, true, 0); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s.type: %v is not an element we send", p, el["type"])
		}
	}
	if acts, ok := card["actions"].([]any); ok {
		for i, x := range acts {
			a, err := object(x, fmt.Sprintf("actions[%d]", i))
			if err != nil {
				return err
			}
			if a["type"] != "Action.OpenUrl" {
				return fmt.Errorf("actions[%d]: Action.OpenUrl expected", i)
			}
			u, err := str(a, "url", "actions", true, 0)
			if err != nil {
				return err
			}
			if err := absURL(u, "actions.url"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPagerDuty: Events API v2 (routing_key, event_action trigger|acknowledge|resolve,
// dedup_key ≤ 255; a trigger needs payload.summary ≤ 1024, payload.source and
// payload.severity critical|error|warning|info, an ISO 8601 timestamp if any).
func checkPagerDuty(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if _, err := str(m, "routing_key", "", true, 0); err != nil {
		return err
	}
	action, err := str(m, "event_action", "", true, 0)
	if err != nil {
		return err
	}
	if err := oneOf(action, "event_action", "trigger", "acknowledge", "resolve"); err != nil {
		return err
	}
	if _, err := str(m, "dedup_key", "", action != "trigger", 255); err != nil {
		return err
	}
	if action != "trigger" {
		return nil
	}
	p, err := object(m["payload"], "payload")
	if err != nil {
		return err
	}
	if _, err := str(p, "summary", "payload", true, 1024); err != nil {
		return err
	}
	if _, err := str(p, "source", "payload", true, 0); err != nil {
		return err
	}
	sev, err := str(p, "severity", "payload", true, 0)
	if err != nil {
		return err
	}
	if err := oneOf(sev, "payload.severity", "critical", "error", "warning", "info"); err != nil {
		return err
	}
	if ts, _ := p["timestamp"].(string); ts != "" {
		if err := rfc3339(ts, "payload.timestamp"); err != nil {
			return err
		}
	}
	if links, ok := m["links"].([]any); ok {
		for i, l := range links {
			lm, err := object(l, fmt.Sprintf("links[%d]", i))
			if err != nil {
				return err
			}
			h, err := str(lm, "href", "links", true, 0)
			if err != nil {
				return err
			}
			if err := absURL(h, "links.href"); err != nil {
				return err
			}
		}
	}
	return nil
}
