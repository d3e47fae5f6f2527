package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
)

// post sends a JSON body. 2xx is delivered; 408, 425, 429 and 5xx and network errors are
// worth retrying; any other status is the receiver refusing the message, for good.
// Errors name the host only: a webhook URL is a credential.
func (n *Notifier) post(ctx context.Context, rawURL string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return permanent(errors.New("the channel's URL is not valid"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sitemetrics")
	for k, v := range header {
		req.Header[k] = v
	}
	host := req.URL.Host
	resp, err := n.opt.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole URL
		}
		return fmt.Errorf("POST to %s: %v", host, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("POST to %s: HTTP %d: %s", host, resp.StatusCode, strings.TrimSpace(string(snippet)))
	switch {
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly,
		resp.StatusCode == http.StatusTooManyRequests:
		return err
	}
	return permanent(err)
}

// WebhookBody is the generic webhook's JSON, as the README documents it.
type WebhookBody struct {
	ID              string             `json:"id"`
	Status          models.AlertStatus `json:"status"`
	Kind            models.AlertKind   `json:"kind"`
	Severity        models.Severity    `json:"severity"`
	SLO             webhookSLO         `json:"slo"`
	Tier            *webhookTier       `json:"tier"`
	Feed            *models.EventFeed  `json:"feed"`
	BudgetRemaining *float64           `json:"budget_remaining"`
	StartedAt       string             `json:"started_at"`
	SentAt          string             `json:"sent_at"`
}

type webhookSLO struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Service     string `json:"service"`
	Team        string `json:"team"`
	URL         string `json:"url"`
}

type webhookTier struct {
	Name        string  `json:"name"`
	Factor      float64 `json:"factor"`
	LongWindow  string  `json:"long_window"`
	ShortWindow string  `json:"short_window"`
	LongRate    float64 `json:"long_rate"`
	ShortRate   float64 `json:"short_rate"`
}

func webhookBody(m message) WebhookBody {
	d := m.Detail
	b := WebhookBody{ID: m.ID, Status: m.Event.Status, Kind: m.Event.Kind, Severity: m.Event.Severity,
		SLO:  webhookSLO{ID: d.SLO.ID, Name: d.SLO.Name, DisplayName: d.SLO.DisplayName, Service: d.SLO.Service, Team: d.SLO.Team, URL: m.URL},
		Feed: d.Feed, BudgetRemaining: d.BudgetRemaining,
		StartedAt: m.Event.StartedAt.UTC().Format(time.RFC3339), SentAt: m.SentAt.Format(time.RFC3339)}
	if t := d.Tier; t != nil {
		b.Tier = &webhookTier{Name: t.Name, Factor: t.Factor, LongWindow: window(t.LongWindow), ShortWindow: window(t.ShortWindow),
			LongRate: t.LongRate, ShortRate: t.ShortRate}
	}
	return b
}

// Sign is the X-Sitemetrics-Signature value of a body: sha256=<hex HMAC-SHA256>.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (n *Notifier) sendWebhook(ctx context.Context, c models.Channel, m message) error {
	body, err := json.Marshal(webhookBody(m))
	if err != nil {
		return permanent(err)
	}
	h := http.Header{}
	h.Set("X-Sitemetrics-Event", m.ID)
	if c.Secret != "" {
		h.Set("X-Sitemetrics-Signature", Sign(c.Secret, body))
	}
	return n.post(ctx, c.URL, body, h)
}

// Slack: an incoming webhook with Block Kit blocks and a plain-text fallback.
func (n *Notifier) sendSlack(ctx context.Context, c models.Channel, m message) error {
	body, err := json.Marshal(slackBody(m))
	if err != nil {
		return permanent(err)
	}
	return n.post(ctx, c.URL, body, nil)
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func slackBody(m message) map[string]any {
	var fields []map[string]any
	for _, f := range m.Facts {
		if len(fields) == 10 { // Block Kit allows ten fields per section
			break
		}
		fields = append(fields, map[string]any{"type": "mrkdwn", "text": clip("*"+slackEscape(f.Name)+"*\n"+slackEscape(f.Value), 1900)})
	}
	section := map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": clip(slackEscape(m.Summary), 2900)}}
	if len(fields) > 0 {
		section["fields"] = fields
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(m.Title, 145), "emoji": true}},
		section,
	}
	if m.URL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []map[string]any{{
			"type": "button", "text": map[string]any{"type": "plain_text", "text": "Open the SLO"}, "url": m.URL, "action_id": "open_slo"}}})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{{
		"type": "mrkdwn", "text": slackEscape("Sitemetrics · " + m.ID)}}})
	return map[string]any{"text": clip(m.Title, 3000), "blocks": blocks}
}

// Teams: a Workflows ("Post to a channel when a webhook request is received") webhook
// with one Adaptive Card.
func (n *Notifier) sendTeams(ctx context.Context, c models.Channel, m message) error {
	body, err := json.Marshal(teamsBody(m))
	if err != nil {
		return permanent(err)
	}
	return n.post(ctx, c.URL, body, nil)
}

func teamsBody(m message) map[string]any {
	color := "Attention"
	if m.Event.Status == models.AlertResolved {
		color = "Good"
	} else if m.Event.Severity == models.SeverityTicket || m.Event.Kind == models.KindTest {
		color = "Warning"
	}
	facts := []map[string]any{}
	for _, f := range m.Facts {
		facts = append(facts, map[string]any{"title": f.Name, "value": f.Value})
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": m.Title, "weight": "Bolder", "size": "Medium", "wrap": true, "color": color},
		{"type": "TextBlock", "text": m.Summary, "wrap": true},
	}
	if len(facts) > 0 {
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": "Sitemetrics · " + m.ID, "isSubtle": true, "size": "Small", "wrap": true})
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body}
	if m.URL != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Open the SLO", "url": m.URL}}
	}
	return map[string]any{"type": "message", "attachments": []map[string]any{{
		"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}}}
}

// PagerDuty Events API v2: trigger and resolve share a dedup_key per alert episode, so
// PagerDuty folds re-sends into one incident and the resolve closes it.
func (n *Notifier) sendPagerDuty(ctx context.Context, c models.Channel, m message) error {
	body, err := json.Marshal(pagerDutyBody(c.Secret, m))
	if err != nil {
		return permanent(err)
	}
	return n.post(ctx, c.URL, body, nil)
}

func pagerDutyBody(routingKey string, m message) map[string]any {
	ev := m.Event
	out := map[string]any{"routing_key": routingKey, "dedup_key": "sitemetrics/" + ev.Episode, "event_action": "trigger",
		"client": "Sitemetrics", "client_url": m.Base + "/alerts"}
	if ev.Status == models.AlertResolved {
		out["event_action"] = "resolve"
		return out
	}
	sev := "warning"
	if ev.Severity == models.SeverityPage {
		sev = "critical"
	}
	details := map[string]any{"event_id": m.ID, "kind": ev.Kind, "summary": m.Summary}
	for _, f := range m.Facts {
		details[f.Name] = f.Value
	}
	payload := map[string]any{"summary": clip(m.Title, 1000), "source": "sitemetrics", "severity": sev,
		"timestamp": ev.StartedAt.UTC().Format(time.RFC3339), "class": string(ev.Kind), "custom_details": details}
	if m.Detail.SLO.Service != "" {
		payload["component"] = m.Detail.SLO.Service
	}
	if m.Detail.SLO.Team != "" {
		payload["group"] = m.Detail.SLO.Team
	}
	out["payload"] = payload
	if m.URL != "" {
		out["links"] = []map[string]any{{"href": m.URL, "text": "The SLO in Sitemetrics"}}
	}
	return out
}

// Alertmanager API v2: POST /api/v2/alerts with a list of alerts. Labels identify an
// alert (Alertmanager groups and deduplicates on them); endsAt in the past resolves it.
func (n *Notifier) sendAlertmanager(ctx context.Context, c models.Channel, ms []message) error {
	u := strings.TrimRight(c.URL, "/")
	if !strings.HasSuffix(u, "/api/v2/alerts") {
		u += "/api/v2/alerts"
	}
	alerts := make([]map[string]any, len(ms))
	for i, m := range ms {
		alerts[i] = alertmanagerAlert(m)
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return permanent(err)
	}
	return n.post(ctx, u, body, nil)
}

// AlertName is the alertname label of each kind, for Alertmanager routes.
func AlertName(k models.AlertKind) string {
	switch k {
	case models.KindBurnRate:
		return "SitemetricsBurnRate"
	case models.KindStaleFeed:
		return "SitemetricsStaleFeed"
	case models.KindBudgetExhausted:
		return "SitemetricsBudgetExhausted"
	}
	return "SitemetricsTest"
}

func alertmanagerAlert(m message) map[string]any {
	ev, d := m.Event, m.Detail
	labels := map[string]string{"alertname": AlertName(ev.Kind), "severity": string(ev.Severity), "slo": d.SLO.Name,
		"service": d.SLO.Service, "kind": string(ev.Kind)}
	if d.SLO.Team != "" {
		labels["team"] = d.SLO.Team
	}
	if ev.Tier != "" {
		labels["tier"] = strings.ReplaceAll(ev.Tier, " ", "_")
	}
	a := map[string]any{"labels": labels,
		"annotations": map[string]string{"summary": m.Title, "description": m.Summary, "sitemetrics_event_id": m.ID},
		"startsAt":    ev.StartedAt.UTC().Format(time.RFC3339)}
	ends := m.SentAt.Add(time.Hour)
	if ev.Kind == models.KindTest {
		ends = m.SentAt.Add(5 * time.Minute)
	}
	if ev.Status == models.AlertResolved {
		ends = m.SentAt
	}
	a["endsAt"] = ends.Format(time.RFC3339)
	if m.URL != "" {
		a["generatorURL"] = m.URL
	}
	return a
}
