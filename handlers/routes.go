package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sitemetrics/sitemetrics/models"
)

// Routes is the single map of every URL the app serves.
func (h *Handler) Routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(h.cfg.TrustedProxies); err != nil {
		h.log.Error("trusted proxies", "err", err)
	}
	r.Use(requestID, h.observe, h.recovery, h.securityHeaders)
	r.NoRoute(h.notFound)
	r.NoMethod(h.methodNotAllowed)

	r.GET("/healthz", h.healthz)
	r.GET("/readyz", h.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(h.metrics.Registry, promhttp.HandlerOpts{})))

	r.GET("/static/*path", h.serveStatic)

	r.POST("/hooks/splunk/:token", h.ingestSplunk)
	r.POST("/hooks/splunk", h.ingestSplunk)

	// Everything below knows who is asking.
	app := r.Group("", h.loadSession)
	app.GET("/login", h.showLogin)
	app.POST("/login", h.login)
	app.POST("/logout", h.logout)
	app.GET("/tv", h.showTV)

	viewerPages := app.Group("", h.requirePage(models.RoleViewer))
	viewerPages.GET("/", h.showOverview)
	viewerPages.GET("/slos/:id", h.showSLO)
	viewerPages.GET("/help", h.showHelp)
	viewerPages.GET("/reports", h.reportsIndex)
	viewerPages.GET("/reports/:month", h.showReport)
	viewerPages.GET("/account", h.showAccount)
	viewerPages.POST("/account", h.saveAccount)
	viewerPages.GET(passwordPath, h.showPassword)
	viewerPages.GET("/alerts", h.showAlerts)
	viewerPages.POST(passwordPath, h.changePassword)

	sre := app.Group("", h.requirePage(models.RoleSRE))
	sre.GET("/slos", h.listSLOConfig)
	sre.GET("/slos/new", h.newSLO)
	sre.POST("/slos/new", h.saveSLO)
	sre.GET("/slos/:id/edit", h.editSLO)
	sre.POST("/slos/:id/edit", h.saveSLO)
	sre.GET("/slos/:id/delete", h.confirmDeleteSLO)
	sre.POST("/slos/:id/delete", h.deleteSLO)
	sre.GET("/feeds", h.listFeeds)
	sre.GET("/feeds/new", h.newFeed)
	sre.POST("/feeds/new", h.createFeed)
	sre.GET("/feeds/:id", h.showFeed)
	sre.POST("/feeds/:id", h.updateFeed)
	sre.POST("/feeds/:id/tokens", h.createFeedToken)
	sre.GET("/feeds/:id/tokens/:token/revoke", h.confirmRevokeFeedToken)
	sre.POST("/feeds/:id/tokens/:token/revoke", h.revokeFeedToken)
	sre.GET("/feeds/:id/deliveries/:delivery", h.showDeliveryBody)
	sre.POST("/feeds/:id/deliveries/:delivery/replay", h.replayDelivery)
	sre.GET("/feeds/:id/preview", h.previewFeed)
	sre.POST("/feeds/:id/preview", h.previewFeed)
	sre.GET("/maintenance", h.listMaintenance)
	sre.POST("/maintenance", h.createMaintenance)
	sre.POST("/maintenance/:id/delete", h.deleteMaintenance)
	sre.GET("/annotations", h.listAnnotations)
	sre.POST("/annotations", h.createAnnotation)
	sre.POST("/annotations/:id/delete", h.deleteAnnotation)
	sre.GET("/audit", h.showAudit)
	sre.GET("/services/new", h.newService)
	sre.POST("/services/new", h.saveService)
	sre.GET("/services/:id/edit", h.editService)
	sre.POST("/services/:id/edit", h.saveService)
	sre.GET("/services/:id/delete", h.confirmDeleteService)
	sre.POST("/services/:id/delete", h.deleteService)
	sre.GET("/channels", h.listChannels)
	sre.POST("/channels", h.createChannel)
	sre.GET("/channels/:id", h.showChannel)
	sre.POST("/channels/:id", h.updateChannel)
	sre.POST("/channels/:id/test", h.testChannel)
	sre.POST("/channels/:id/delete", h.deleteChannel)
	sre.GET("/silences", h.listSilences)
	sre.POST("/silences", h.createSilence)
	sre.POST("/silences/:id/expire", h.expireSilence)

	adminPages := app.Group("/admin", h.requirePage(models.RoleAdmin))
	adminPages.GET("/users", h.listUsers)
	adminPages.POST("/users/:id/sessions/end", h.endUserSessions)
	app.GET("/debug/pprof/*name", h.requirePage(models.RoleAdmin), h.showPprof)
	adminPages.GET("/tokens", h.listTokens)
	adminPages.POST("/tokens", h.createToken)
	adminPages.GET("/tokens/:id/revoke", h.confirmRevokeToken)
	adminPages.POST("/tokens/:id/revoke", h.revokeToken)
	adminPages.GET("/kiosk", h.listKiosk)
	adminPages.POST("/kiosk", h.createKiosk)
	adminPages.GET("/kiosk/:id/revoke", h.confirmRevokeKiosk)
	adminPages.POST("/kiosk/:id/revoke", h.revokeKiosk)

	api := app.Group("/api/v1", h.apiAuth)
	viewer := api.Group("", h.requireRole(models.RoleViewer))
	viewer.GET("/me", h.showMeAPI)
	viewer.PUT("/me", h.updateMeAPI)
	viewer.GET("/feeds/:id/samples", h.listSamplesAPI)
	viewer.GET("/slos", h.listSLOsAPI)
	viewer.GET("/slos/:id", h.showSLOAPI)
	viewer.GET("/services", h.listServicesAPI)
	viewer.GET("/services/:id", h.showServiceAPI)
	viewer.GET("/maintenance", h.listMaintenanceAPI)
	viewer.GET("/annotations", h.listAnnotationsAPI)
	viewer.GET("/openslo", h.exportOpenSLO)
	viewer.GET("/alerts", h.listAlertsAPI)

	// Feeds carry token hints and deliveries raw bodies: SREs only, as the
	// feed pages are.
	sreAPI := api.Group("", h.requireRole(models.RoleSRE))
	sreAPI.GET("/feeds/:id/deliveries/:delivery", h.showDeliveryAPI)
	sreAPI.POST("/feeds/:id/deliveries/:delivery/replay", h.replayDeliveryAPI)
	sreAPI.GET("/feeds", h.listFeedsAPI)
	sreAPI.GET("/feeds/:id", h.showFeedAPI)
	sreAPI.GET("/feeds/:id/deliveries", h.listDeliveriesAPI)
	sreAPI.POST("/slos", h.saveSLOAPI)
	sreAPI.PUT("/slos/:id", h.saveSLOAPI)
	sreAPI.DELETE("/slos/:id", h.deleteSLOAPI)
	sreAPI.POST("/services", h.saveServiceAPI)
	sreAPI.PUT("/services/:id", h.saveServiceAPI)
	sreAPI.DELETE("/services/:id", h.deleteServiceAPI)
	sreAPI.POST("/feeds", h.saveFeedAPI)
	sreAPI.PUT("/feeds/:id", h.saveFeedAPI)
	sreAPI.DELETE("/feeds/:id", h.deleteFeedAPI)
	sreAPI.POST("/feeds/:id/tokens", h.createFeedTokenAPI)
	sreAPI.DELETE("/feeds/:id/tokens/:token", h.revokeFeedTokenAPI)
	sreAPI.POST("/feeds/:id/preview", h.previewFeedAPI)
	sreAPI.POST("/maintenance", h.createMaintenanceAPI)
	sreAPI.DELETE("/maintenance/:id", h.deleteMaintenance)
	sreAPI.POST("/annotations", h.createAnnotationAPI)
	sreAPI.DELETE("/annotations/:id", h.deleteAnnotation)
	sreAPI.GET("/audit", h.listAuditAPI)
	sreAPI.POST("/openslo", h.importOpenSLO)
	sreAPI.GET("/channels", h.listChannelsAPI)
	sreAPI.POST("/channels", h.saveChannelAPI)
	sreAPI.GET("/channels/:id", h.showChannelAPI)
	sreAPI.PUT("/channels/:id", h.saveChannelAPI)
	sreAPI.DELETE("/channels/:id", h.deleteChannel)
	sreAPI.POST("/channels/:id/test", h.testChannel)
	sreAPI.GET("/silences", h.listSilencesAPI)
	sreAPI.POST("/silences", h.createSilenceAPI)
	sreAPI.DELETE("/silences/:id", h.expireSilence)

	admin := api.Group("", h.requireRole(models.RoleAdmin))
	admin.GET("/tokens", h.listTokensAPI)
	admin.POST("/tokens", h.createTokenAPI)
	admin.DELETE("/tokens/:id", h.revokeToken)
	admin.GET("/users", h.listUsersAPI)
	admin.GET("/users/:id/sessions", h.listUserSessionsAPI)
	admin.DELETE("/users/:id/sessions", h.endUserSessions)
	return compressed(r)
}

func (h *Handler) notFound(c *gin.Context) {
	h.fail(c, models.Errorf(models.ENOTFOUND, "There is no page at %s.", c.Request.URL.Path))
}

func (h *Handler) methodNotAllowed(c *gin.Context) {
	msg := "method " + c.Request.Method + " is not allowed here"
	if allow := c.Writer.Header().Get("Allow"); allow != "" {
		msg += "; use " + strings.ReplaceAll(allow, ",", " or")
	}
	h.failJSON(c, http.StatusMethodNotAllowed, models.Errorf("method_not_allowed", "%s", msg))
}

// secure reports whether the app is served over https (cookies, HSTS).
func (h *Handler) secure() bool { return strings.HasPrefix(h.cfg.BaseURL, "https://") }
