package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/openslo"
)

// sloJSON is an SLO with its computed status and budget, as the API returns it.
// Ratios are fractions (0.999); target_percent is the target as people write it.
type sloJSON struct {
	ID            int64              `json:"id"`
	Name          string             `json:"name"`
	DisplayName   string             `json:"display_name"`
	Description   string             `json:"description"`
	Service       models.Service     `json:"service"`
	Feed          string             `json:"feed"`
	FeedID        int64              `json:"feed_id"`
	Binding       models.Binding     `json:"binding"`
	Window        string             `json:"window"`
	TimeZone      string             `json:"time_zone"`
	LatencyFields string             `json:"latency_fields"`
	Target        float64            `json:"target"`
	TargetPercent string             `json:"target_percent"`
	Targets       []models.SLOTarget `json:"targets"`
	Rederiving    *models.Progress   `json:"rederiving,omitempty"`
	Status        statusJSON         `json:"status"`
}

type statusJSON struct {
	Status           models.SLOStatus `json:"status"`
	Stale            bool             `json:"stale"`
	LowTraffic       bool             `json:"low_traffic"`
	PeriodStart      time.Time        `json:"period_start"`
	PeriodEnd        time.Time        `json:"period_end"`
	Good             float64          `json:"good"`
	Total            float64          `json:"total"`
	Bad              float64          `json:"bad"`
	HasData          bool             `json:"has_data"`
	SLI              *float64         `json:"sli"`
	AllowedBad       float64          `json:"allowed_bad"`
	BudgetRemaining  *float64         `json:"budget_remaining"`
	BudgetConsumed   *float64         `json:"budget_consumed"`
	FastestBurnRate  float64          `json:"fastest_burn_rate"`
	BurnRate         float64          `json:"burn_rate"`
	ExhaustsAt       *time.Time       `json:"exhausts_at"`
	TimeToExhaustion *float64         `json:"time_to_exhaustion_seconds"`
	LastDataAt       *time.Time       `json:"last_data_at"`
	EvaluatedAt      time.Time        `json:"evaluated_at"`
	DataTime         time.Time        `json:"data_time"`
	Excluded         int              `json:"excluded_rows"`
	Version          int64            `json:"version"`
	Tiers            []tierJSON       `json:"burn_rate_tiers"`
}

type tierJSON struct {
	Name      string  `json:"name"`
	Severity  string  `json:"severity"`
	Factor    float64 `json:"factor"`
	Long      string  `json:"long_window"`
	Short     string  `json:"short_window"`
	LongRate  float64 `json:"long_rate"`
	ShortRate float64 `json:"short_rate"`
	Firing    bool    `json:"firing"`
}

func toSLOJSON(r models.SLOReport) sloJSON {
	e := r.Eval
	out := sloJSON{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, Description: r.Description, Service: r.Service,
		Feed: r.Feed.Name, FeedID: r.Feed.ID, Binding: r.Binding, Window: r.WindowSpec, TimeZone: r.TimeZone,
		LatencyFields: r.LatencyFields, Target: e.Target, TargetPercent: models.FormatPercent(e.Target), Targets: r.Targets,
		Rederiving: r.Rederiving}
	st := statusJSON{Status: e.Status, Stale: e.Stale, LowTraffic: e.LowTraffic, PeriodStart: e.PeriodStart, PeriodEnd: e.PeriodEnd,
		Good: e.Good, Total: e.Total, Bad: e.Bad, HasData: e.HasData, AllowedBad: e.AllowedBad,
		FastestBurnRate: e.FastestBurnRate, BurnRate: e.BurnRate, ExhaustsAt: e.ExhaustsAt,
		LastDataAt: r.LastDataAt, EvaluatedAt: r.At, DataTime: e.End, Excluded: e.Excluded, Version: r.Version}
	if e.HasData {
		// Without data there is no budget to speak of: null, never 1.
		sli, rem, con := e.SLI, e.Remaining, e.Consumed
		st.SLI, st.BudgetRemaining, st.BudgetConsumed = &sli, &rem, &con
	}
	if e.TimeToExhaustion != nil {
		s := e.TimeToExhaustion.Seconds()
		st.TimeToExhaustion = &s
	}
	for _, t := range e.Tiers {
		st.Tiers = append(st.Tiers, tierJSON{Name: t.Name, Severity: string(t.Severity), Factor: t.Factor, Long: t.Long.String(),
			Short: t.Short.String(), LongRate: t.LongRate, ShortRate: t.ShortRate, Firing: t.Firing})
	}
	out.Status = st
	return out
}

// numbersKey identifies a list of SLOs with their numbers: each SLO's summary version
// (a delivery or a change of settings, its service's included, gives a new one), when
// it was computed (a late feed's numbers are computed again as time passes) and which
// load of its settings it is shown with (settings are loaded before their numbers).
func numbersKey(reports []models.SLOReport) [32]byte {
	h := sha256.New()
	var b [32]byte
	for _, r := range reports {
		n := numbersOf(r)
		binary.LittleEndian.PutUint64(b[0:], uint64(r.ID))
		binary.LittleEndian.PutUint64(b[8:], uint64(n.version))
		binary.LittleEndian.PutUint64(b[16:], uint64(n.at))
		binary.LittleEndian.PutUint64(b[24:], n.loaded)
		h.Write(b[:])
	}
	var key [32]byte
	h.Sum(key[:0])
	return key
}

func (h *Handler) showSLOAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	r, err := h.store.Report(c.Request.Context(), id, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toSLOJSON(r))
}

func (h *Handler) saveSLOAPI(c *gin.Context) {
	var in models.SLOInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	var d models.SLODetail
	var warnings []string
	var err error
	status := http.StatusCreated
	if c.Param("id") == "" {
		d, warnings, err = h.store.CreateSLO(c.Request.Context(), actor(c), in)
	} else {
		id, ok := h.idParam(c, "id")
		if !ok {
			return
		}
		status = http.StatusOK
		d, warnings, err = h.store.UpdateSLO(c.Request.Context(), actor(c), id, in)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	r, err := h.store.Report(c.Request.Context(), d.ID, h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	c.JSON(status, gin.H{"slo": toSLOJSON(r), "warnings": warnings})
}

func (h *Handler) deleteSLOAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteSLO(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) listServicesAPI(c *gin.Context) {
	list, err := h.store.Services(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"services": list})
}

func (h *Handler) showServiceAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	s, err := h.store.Service(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

func (h *Handler) saveServiceAPI(c *gin.Context) {
	var in models.ServiceInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	if c.Param("id") == "" {
		s, err := h.store.CreateService(c.Request.Context(), actor(c), in)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, s)
		return
	}
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	s, err := h.store.UpdateService(c.Request.Context(), actor(c), id, in)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s)
}

func (h *Handler) deleteServiceAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	if err := h.store.DeleteService(c.Request.Context(), actor(c), id); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *Handler) exportOpenSLO(c *gin.Context) {
	b, err := h.store.ExportOpenSLO(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `inline; filename="sitemetrics-openslo.yaml"`)
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", b)
}

// maxImport is the largest OpenSLO file the API takes: thousands of SLOs.
const maxImport = 4 << 20

func (h *Handler) importOpenSLO(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxImport))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		// Never a part of the file: a file cut at a document boundary would import
		// what it holds and silently leave the rest out.
		h.fail(c, models.Errorf(models.ETOOLARGE, "the file is over %d MiB: nothing was imported; split it", maxImport>>20))
		return
	}
	if err != nil {
		h.fail(c, models.Errorf(models.EINVALID, "could not read the body: %v", err))
		return
	}
	plan, err := openslo.Parse(bytes.NewReader(body))
	if err != nil {
		h.fail(c, err)
		return
	}
	dryRun := c.Query("dry_run") == "1" || c.Query("dry_run") == "true"
	res, err := h.store.ImportOpenSLO(c.Request.Context(), actor(c), plan, dryRun)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, importJSON(res))
}

// changeJSON is what an OpenSLO import did (or, dry, would do) to one service or SLO.
type changeJSON struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Action string   `json:"action"`
	Diff   []string `json:"diff"`
}

func importJSON(res openslo.Result) gin.H {
	changes := []changeJSON{}
	for _, c := range append(append([]openslo.Change{}, res.Services...), res.SLOs...) {
		diff := c.Diff
		if diff == nil {
			diff = []string{}
		}
		changes = append(changes, changeJSON{Kind: c.Kind, Name: c.Name, Action: c.Action, Diff: diff})
	}
	notices := res.Notices
	if notices == nil {
		notices = []string{}
	}
	return gin.H{"dry_run": res.DryRun, "services": len(res.Services),
		"services_created": res.Count("service", openslo.ActionCreate), "services_updated": res.Count("service", openslo.ActionUpdate),
		"services_unchanged": res.Count("service", openslo.ActionNone),
		"slos_created":       res.Count("SLO", openslo.ActionCreate), "slos_updated": res.Count("SLO", openslo.ActionUpdate),
		"slos_unchanged": res.Count("SLO", openslo.ActionNone), "changes": changes, "notices": notices}
}
