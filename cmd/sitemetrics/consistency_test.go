package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/sitemetrics/sitemetrics/views"
)

// apiSLO is what the consistency test reads of an SLO from the API.
type apiSLO struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Rederiving  *struct {
		Done int `json:"done"`
	} `json:"rederiving"`
	Status struct {
		Status          string   `json:"status"`
		BudgetRemaining *float64 `json:"budget_remaining"`
		HasData         bool     `json:"has_data"`
		Version         int64    `json:"version"`
	} `json:"status"`
}

func (s apiSLO) title() string {
	if s.DisplayName != "" {
		return s.DisplayName
	}
	return s.Name
}

// One status, everywhere: for every SLO of the demo (all statuses, a calendar and
// rolling windows, a no-data SLO), the overview, the detail page, the TV, the
// monthly report, its CSV and the API show the same status and budget, and the
// "N of M" counts follow one rule. The simulator keeps posting, so the pages are
// read between two API reads that agree on every SLO's data version.
func TestOneStatusEverywhere(t *testing.T) {
	env := localEnv(t, "sqlite")
	a := startApp(t, env, "--demo")
	viewer := newAPIToken(t, env, "viewer")
	b := newBrowser(t, a.URL)
	mustf(t, b.login("admin", adminPassword, "/").Status == 303, "login")

	read := func() []apiSLO {
		var list struct {
			SLOs []apiSLO `json:"slos"`
		}
		apiGet(t, a, viewer, "/api/v1/slos", &list)
		return list.SLOs
	}
	versions := func(list []apiSLO) string {
		var b strings.Builder
		for _, s := range list {
			fmt.Fprintf(&b, "%d:%d/%v ", s.ID, s.Status.Version, s.Rederiving != nil)
		}
		return b.String()
	}
	doc := func(path string) *goquery.Document {
		r := b.get(path)
		mustf(t, r.Status == 200, "GET %s: %d", path, r.Status)
		d, err := goquery.NewDocumentFromReader(bytes.NewReader(r.Body))
		must(t, err)
		return d
	}
	text := func(s *goquery.Selection) string { return strings.TrimSpace(s.Text()) }
	month := time.Now().UTC().Format("2006-01")

	deadline := time.Now().Add(60 * time.Second)
	for attempt := 1; ; attempt++ {
		before := read()
		derived := len(before) == 6
		for _, s := range before {
			derived = derived && s.Rederiving == nil
		}
		if !derived {
			mustf(t, time.Now().Before(deadline), "demo not derived: %s", versions(before))
			time.Sleep(200 * time.Millisecond)
			continue
		}
		overview, tv, report := doc("/"), doc("/tv"), doc("/reports/"+month)
		details := map[int64]*goquery.Document{}
		for _, s := range before {
			details[s.ID] = doc(fmt.Sprintf("/slos/%d", s.ID))
		}
		csvBody := b.get("/reports/" + month + ".csv").Body
		if after := read(); versions(after) != versions(before) {
			mustf(t, attempt < 10 && time.Now().Before(deadline), "data kept changing under the pages: %s vs %s", versions(before), versions(after))
			continue // a delivery landed meanwhile: read everything again
		}

		rows, err := csv.NewReader(bytes.NewReader(csvBody)).ReadAll()
		must(t, err)
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		csvBy := map[string][]string{}
		for _, r := range rows[1:] {
			csvBy[r[col["slo"]]] = r
		}
		tiles := map[string]*goquery.Selection{}
		tv.Find(`[data-testid="tv-tile"]`).Each(func(_ int, s *goquery.Selection) { tiles[text(s.Find(".tv-name"))] = s })

		meeting, judged := 0, 0
		for _, s := range before {
			want := s.Status.Status
			budget := "—"
			if s.Status.BudgetRemaining != nil {
				budget = views.Percent(*s.Status.BudgetRemaining, 1)
			}
			if want != "computing" && want != "no data" {
				judged++
				if s.Status.BudgetRemaining != nil && *s.Status.BudgetRemaining > 0 {
					meeting++
				}
			}
			row := overview.Find(fmt.Sprintf(`[data-testid="slo-%d"]`, s.ID))
			mustf(t, row.Length() == 1, "%s: no overview row", s.Name)
			mustf(t, text(row.Find(`[data-testid="status"]`)) == want && text(row.Find(`[data-testid="remaining"]`)) == budget,
				"%s overview: %q %q, API %q %q", s.Name, text(row.Find(`[data-testid="status"]`)), text(row.Find(`[data-testid="remaining"]`)), want, budget)
			d := details[s.ID]
			mustf(t, text(d.Find(`[data-testid="status"]`).First()) == want && text(d.Find(`[data-testid="remaining"]`)) == budget,
				"%s detail: %q %q, API %q %q", s.Name, text(d.Find(`[data-testid="status"]`).First()), text(d.Find(`[data-testid="remaining"]`)), want, budget)
			tile := tiles[s.title()]
			mustf(t, tile != nil, "%s: no TV tile", s.Name)
			mustf(t, text(tile.Find(`[data-testid="tv-status"]`)) == want && text(tile.Find(`[data-testid="tv-remaining"]`)) == budget,
				"%s TV: %q %q, API %q %q", s.Name, text(tile.Find(`[data-testid="tv-status"]`)), text(tile.Find(`[data-testid="tv-remaining"]`)), want, budget)
			c := csvBy[s.Name]
			mustf(t, c != nil, "%s: no CSV row", s.Name)
			wantCSV := strings.ReplaceAll(want, " ", "_")
			if c[col["attained_percent"]] == "" {
				wantCSV = "no_data" // nothing this month, whatever the window says
				mustf(t, c[col["met"]] == "", "%s: a month without data has a met cell %q", s.Name, c[col["met"]])
			}
			mustf(t, c[col["status"]] == wantCSV, "%s CSV status %q, API %q", s.Name, c[col["status"]], want)
			mustf(t, report.Find(fmt.Sprintf(`[data-testid="report-%d"]`, s.ID)).Length() == 1, "%s: no report row", s.Name)
		}
		counts := fmt.Sprintf("%d of %d", meeting, judged)
		mustf(t, strings.HasPrefix(text(overview.Find(`[data-testid="meeting"]`)), counts), "overview says %q, the API's numbers %s",
			text(overview.Find(`[data-testid="meeting"]`)), counts)
		mustf(t, text(tv.Find(`[data-testid="tv-meeting"]`)) == counts, "TV says %q, the API's numbers %s", text(tv.Find(`[data-testid="tv-meeting"]`)), counts)
		for _, s := range before {
			if s.Status.Status == "no data" {
				mustf(t, strings.Contains(text(overview.Find(`[data-testid="unjudged"]`)), s.title()), "%s (no data) is not named beside the count", s.Name)
			}
		}
		// The report counts the month's SLOs with data: as many as have an attained cell.
		withData := 0
		for _, r := range rows[1:] {
			if r[col["attained_percent"]] != "" {
				withData++
			}
		}
		mustf(t, strings.Contains(text(report.Find("p.muted").First()), "of "+strconv.Itoa(withData)+" SLOs met"), "report counts: %q, %d with data",
			text(report.Find("p.muted").First()), withData)
		return
	}
}
