package notify_test

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sitemetrics/sitemetrics/migrations"
	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// TestRenderMessages draws the Slack and Teams messages the test receivers got, laid out
// as those clients show Block Kit and Adaptive Cards, and saves screenshots for the
// README (headless Chromium):
//
//	SITEMETRICS_NOTIFY_SCREENSHOTS=$PWD/docs/notifications SITEMETRICS_TEST_CHROMIUM=$(command -v chromium) \
//	  go test -run TestRenderMessages ./notify
func TestRenderMessages(t *testing.T) {
	dir, chromium := os.Getenv("SITEMETRICS_NOTIFY_SCREENSHOTS"), os.Getenv("SITEMETRICS_TEST_CHROMIUM")
	if dir == "" || chromium == "" {
		t.Skip("set SITEMETRICS_NOTIFY_SCREENSHOTS (a directory) and SITEMETRICS_TEST_CHROMIUM to draw the README's message screenshots")
	}
	s := dbtest.Open(t, migrations.SQLite)
	r := newRigAt(t, s, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	slack, teams := newReceiver(t, checkSlack), newReceiver(t, checkTeams)
	r.channel("slack", "slack", slack.url, nil, pageOnly)
	r.channel("teams", "teams", teams.url, nil, pageOnly)
	r.history()
	r.cross()
	r.step()
	must(t, os.MkdirAll(dir, 0o755))
	shot(t, chromium, filepath.Join(dir, "slack-message.png"), slackHTML(t, slack.requests()[0].Body))
	shot(t, chromium, filepath.Join(dir, "teams-message.png"), teamsHTML(t, teams.requests()[0].Body))
}

func shot(t *testing.T, chromium, png, page string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "msg.html")
	must(t, os.WriteFile(src, []byte(page), 0o644))
	out, err := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
		"--window-size=760,520", "--screenshot="+png, "file://"+src).CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
}

var mrkdwnBold = regexp.MustCompile(`\*([^*\n]+)\*`)

// mrkdwn renders the little of Slack's mrkdwn we send: *bold* and new lines (the text
// arrives escaped with &amp; &lt; &gt;, as Slack expects).
func mrkdwn(s string) string {
	return strings.ReplaceAll(mrkdwnBold.ReplaceAllString(s, "<b>$1</b>"), "\n", "<br>")
}

func slackHTML(t *testing.T, body []byte) string {
	var m struct {
		Blocks []struct {
			Type   string
			Text   *struct{ Text string }
			Fields []struct{ Text string }
			// actions and context
			Elements []struct {
				Type string
				Text json.RawMessage
				URL  string
			}
		}
	}
	must(t, json.Unmarshal(body, &m))
	var b strings.Builder
	for _, blk := range m.Blocks {
		switch blk.Type {
		case "header":
			fmt.Fprintf(&b, `<div class="header">%s</div>`, html.EscapeString(blk.Text.Text))
		case "section":
			fmt.Fprintf(&b, `<div class="text">%s</div><div class="fields">`, mrkdwn(blk.Text.Text))
			for _, f := range blk.Fields {
				fmt.Fprintf(&b, `<div>%s</div>`, mrkdwn(f.Text))
			}
			b.WriteString(`</div>`)
		case "actions":
			for _, e := range blk.Elements {
				var txt struct{ Text string }
				_ = json.Unmarshal(e.Text, &txt)
				fmt.Fprintf(&b, `<span class="button">%s</span>`, html.EscapeString(txt.Text))
			}
		case "context":
			for _, e := range blk.Elements {
				var txt string
				_ = json.Unmarshal(e.Text, &txt)
				fmt.Fprintf(&b, `<div class="context">%s</div>`, mrkdwn(txt))
			}
		}
	}
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{font:15px/1.46668 "DejaVu Sans",Arial,sans-serif;color:#1d1c1d;margin:0;padding:20px;background:#fff}
.msg{display:flex;gap:10px}.avatar{width:36px;height:36px;border-radius:6px;background:#1264a3;color:#fff;font-weight:bold;display:flex;align-items:center;justify-content:center}
.name{font-weight:900}.app{font-size:10px;background:#e8e8e8;color:#616061;padding:1px 3px;border-radius:2px;margin:0 4px}.time{color:#616061;font-size:12px}
.header{font-size:18px;font-weight:900;margin:6px 0}.text{margin:4px 0 8px}.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;margin-bottom:10px}
.button{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 12px;font-weight:bold;font-size:13px;margin:2px 0 8px}
.context{color:#616061;font-size:12px}</style></head><body><div class="msg"><div class="avatar">S</div><div>
<div><span class="name">Sitemetrics</span><span class="app">APP</span><span class="time">9:10 AM</span></div>` + b.String() + `</div></div></body></html>`
}

func teamsHTML(t *testing.T, body []byte) string {
	var m struct {
		Attachments []struct {
			Content struct {
				Body []struct {
					Type, Text, Color, Weight, Size string
					IsSubtle                        bool
					Facts                           []struct{ Title, Value string }
				}
				Actions []struct{ Title, URL string }
			}
		}
	}
	must(t, json.Unmarshal(body, &m))
	card := m.Attachments[0].Content
	colors := map[string]string{"Attention": "#c4314b", "Warning": "#835c00", "Good": "#237b4b"}
	var b strings.Builder
	for _, el := range card.Body {
		switch el.Type {
		case "TextBlock":
			cls := "text"
			if el.Weight == "Bolder" {
				cls = "title"
			}
			if el.IsSubtle {
				cls = "subtle"
			}
			fmt.Fprintf(&b, `<div class="%s" style="color:%s">%s</div>`, cls, colors[el.Color], html.EscapeString(el.Text))
		case "FactSet":
			b.WriteString(`<table>`)
			for _, f := range el.Facts {
				fmt.Fprintf(&b, `<tr><th>%s</th><td>%s</td></tr>`, html.EscapeString(f.Title), html.EscapeString(f.Value))
			}
			b.WriteString(`</table>`)
		}
	}
	for _, a := range card.Actions {
		fmt.Fprintf(&b, `<div class="action">%s</div>`, html.EscapeString(a.Title))
	}
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{font:14px/1.4 "DejaVu Sans",Arial,sans-serif;color:#242424;margin:0;padding:20px;background:#f5f5f5}
.who{font-size:12px;color:#616161;margin-bottom:4px}.card{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:14px 16px;max-width:640px}
.title{font-size:16px;font-weight:bold;margin-bottom:6px}.text{margin-bottom:8px}.subtle{color:#888;font-size:12px;margin-top:8px}
th{text-align:left;padding:2px 16px 2px 0;font-weight:bold;white-space:nowrap;vertical-align:top}td{padding:2px 0}
.action{margin-top:12px;border-top:1px solid #e0e0e0;padding-top:10px;color:#5b5fc7;font-weight:bold;text-align:center}</style></head>
<body><div class="who">Sitemetrics via Workflows · 9:10 AM</div><div class="card">` + b.String() + `</div></body></html>`
}
