package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/views"
)

// showTV opens with a session or with a kiosk link (?k=…).
//
// A page that reloads itself takes the reader's control away (WCAG 2.2.1), so
// only the unattended wall screen of a kiosk link reloads by default, every
// minute; a person signed in turns it on with ?refresh=on. Either way the
// page shows a link that pauses or resumes it (?refresh=off / on).
func (h *Handler) showTV(c *gin.Context) {
	ctx := c.Request.Context()
	v := views.TVView{}
	q := url.Values{}
	refresh := false
	if k := c.Query("k"); k != "" {
		link, err := h.store.KioskLinkBySecret(ctx, k)
		switch {
		case err == nil:
			h.recent.put("k:"+k, principal{Name: link.Name})
		case h.store.Unavailable(err):
			p, ok := h.recent.get("k:" + k)
			if !ok {
				h.fail(c, err)
				return
			}
			link.Name = p.Name
		default:
			h.fail(c, err)
			return
		}
		v.Kiosk, refresh = link.Name, c.Query("refresh") != "off"
		q.Set("k", k)
		// The wall screen's zone: its link's tz (chosen when the link was made,
		// editable on the screen's side), else the one stored with the link.
		zone := link.TimeZone
		if tz := c.Query("tz"); tz != "" {
			zone = tz
			q.Set("tz", tz)
		}
		if loc := h.zones.load(zone); zone != "" && loc != nil {
			c.Set(zoneKey, loc)
		}
	} else if p, ok := currentPrincipal(c); !ok || p.Source == "token" {
		c.Redirect(http.StatusSeeOther, "/login?next=%2Ftv")
		return
	} else if p.MustChange {
		c.Redirect(http.StatusSeeOther, passwordPath+"?next=%2Ftv")
		return
	} else {
		refresh = c.Query("refresh") == "on"
	}
	v.Refresh, v.Toggle, v.ToggleLabel = tvURL(q, "on"), tvURL(q, "on"), "Refresh every minute"
	if refresh {
		v.Toggle, v.ToggleLabel = tvURL(q, "off"), "Pause refreshing"
	} else {
		v.Refresh = ""
	}
	loc, now := h.location(c), h.now()
	v.Clock = "Updated " + now.In(loc).Format("15:04 MST")
	reports, err := h.store.Reports(ctx, now)
	if err != nil && models.ErrorCode(err) != models.EUNAVAILABLE {
		h.fail(c, err)
		return
	}
	if err != nil {
		// The read model still holds the last numbers: show them under a banner.
		v.BannerKind = "error"
		v.Banner = "Sitemetrics cannot reach its database: no new numbers. Showing the last ones known."
		h.log.WarnContext(ctx, "tv: database unavailable", "err", err)
	}
	reports = slices.Clone(reports) // shared with other readers
	sortWorstFirst(reports)
	stale := 0
	for _, r := range reports {
		e := r.Eval
		t := views.TVTile{Name: r.Title(), Service: r.Service.Name, Status: string(e.Status), StatusClass: statusClass(e.Status),
			Remaining: "—", SLI: "—", Target: targetPct(e.Target), Age: dataAge(r, now), Overspent: e.Remaining < 0, Stale: e.Stale}
		if e.HasData {
			t.Remaining, t.SLI = pct(e.Remaining), sliPct(e.SLI, e.Target)
		}
		if e.Stale {
			stale++
		}
		v.Tiles = append(v.Tiles, t)
	}
	v.Meeting, v.Total, _ = models.Meeting(reports)
	if stale > 0 && v.Banner == "" {
		v.BannerKind = "warn"
		v.Banner = fmt.Sprintf("%d SLO(s) have stale data: their Splunk feed stopped reporting.", stale)
	}
	h.render(c, http.StatusOK, views.TVPage(v))
}

// tvURL is the TV's address with its link and zone, refreshing or not.
func tvURL(q url.Values, refresh string) string {
	u := url.Values{}
	for k, v := range q {
		u[k] = v
	}
	u.Set("refresh", refresh)
	return "/tv?" + strings.ReplaceAll(u.Encode(), "%2F", "/")
}
