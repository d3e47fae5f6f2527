package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// commonZones are suggested wherever a time zone is typed; any IANA name works.
var commonZones = []string{"UTC", "Europe/London", "Europe/Madrid", "Europe/Paris", "Europe/Berlin", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore",
	"Asia/Tokyo", "Australia/Sydney"}

// showAccount: who is signed in, and the zone their pages show times in.
func (h *Handler) showAccount(c *gin.Context) {
	h.accountPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) accountPage(c *gin.Context, status int, typed *string, errs map[string]string) {
	p, _ := currentPrincipal(c)
	u, err := h.store.UserByID(c.Request.Context(), p.UserID)
	if err != nil {
		h.fail(c, err)
		return
	}
	loc := h.location(c)
	v := views.AccountView{Username: u.Username, DisplayName: u.DisplayName, Role: string(p.Role), Source: p.Source,
		IsLocal: p.Source == models.SourceLocal, TimeZone: u.TimeZone, Default: h.defaultZone().String(),
		Effective: loc.String(), Now: views.DateTime(h.now(), h.now(), loc), Zones: commonZones, Errors: errs}
	if typed != nil {
		v.TimeZone = *typed
	}
	h.render(c, status, views.AccountPage(h.page(c, "Your account", "account"), v))
}

// saveAccount sets the person's time zone and answers with the account page.
func (h *Handler) saveAccount(c *gin.Context) {
	p, _ := currentPrincipal(c)
	typed := c.PostForm("time_zone")
	tz, err := h.store.SetUserTimeZone(c.Request.Context(), p.UserID, typed)
	if errs, ok := formErrors(err); ok {
		h.accountPage(c, http.StatusBadRequest, &typed, errs)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	text := "Time zone saved: pages show times in " + tz + "."
	if tz == "" {
		text = "Time zone saved: pages show times in the installation's, " + h.defaultZone().String() + "."
	}
	h.redirect(c, "/account", flash{Text: text}, "")
}

// meJSON is who the API caller is, and the zone their pages use.
type meJSON struct {
	Username           string `json:"username"`
	DisplayName        string `json:"display_name"`
	Role               string `json:"role"`
	Source             string `json:"source"`
	TimeZone           string `json:"time_zone"`           // the person's choice; "" is the installation's
	EffectiveTimeZone  string `json:"effective_time_zone"` // what pages use
	MustChangePassword bool   `json:"must_change_password"`
}

func (h *Handler) me(c *gin.Context) (meJSON, error) {
	p, _ := currentPrincipal(c)
	if p.Source == "token" {
		return meJSON{Username: p.Name, Role: string(p.Role), Source: "token", EffectiveTimeZone: h.defaultZone().String()}, nil
	}
	u, err := h.store.UserByID(c.Request.Context(), p.UserID)
	if err != nil {
		return meJSON{}, err
	}
	eff := h.defaultZone().String()
	if loc := h.zones.load(u.TimeZone); u.TimeZone != "" && loc != nil {
		eff = loc.String()
	}
	return meJSON{Username: u.Username, DisplayName: u.DisplayName, Role: string(p.Role), Source: p.Source, TimeZone: u.TimeZone,
		EffectiveTimeZone: eff, MustChangePassword: u.MustChangePassword}, nil
}

// showMeAPI: GET /api/v1/me.
func (h *Handler) showMeAPI(c *gin.Context) {
	m, err := h.me(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

// updateMeAPI: PUT /api/v1/me {"time_zone": "Europe/Madrid"} ("" for the installation's).
func (h *Handler) updateMeAPI(c *gin.Context) {
	p, _ := currentPrincipal(c)
	if p.Source == "token" {
		h.fail(c, models.Errorf(models.EFORBIDDEN, "an API token has no account to keep a time zone in: sign in to set yours (the installation's is SITEMETRICS_TIME_ZONE)"))
		return
	}
	var in struct {
		TimeZone *string `json:"time_zone"`
	}
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	if in.TimeZone == nil {
		h.fail(c, models.FieldErrorf("time_zone", "give time_zone: an IANA name such as Europe/Madrid, or \"\" for the installation's (%s)", h.defaultZone()))
		return
	}
	if _, err := h.store.SetUserTimeZone(c.Request.Context(), p.UserID, *in.TimeZone); err != nil {
		h.fail(c, err)
		return
	}
	h.showMeAPI(c)
}
