package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// channelJSON is a channel as the API shows it: hints, never the URL or secret.
type channelJSON struct {
	models.Channel
	Services []string `json:"services"`
	Teams    []string `json:"teams"`
}

func toChannelJSON(c models.Channel) channelJSON {
	out := channelJSON{Channel: c, Services: c.ServiceList(), Teams: c.TeamList()}
	if out.Services == nil {
		out.Services = []string{}
	}
	if out.Teams == nil {
		out.Teams = []string{}
	}
	return out
}

func (h *Handler) listChannelsAPI(c *gin.Context) {
	list, err := h.store.Channels(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]channelJSON, len(list))
	for i, ch := range list {
		out[i] = toChannelJSON(ch)
	}
	c.JSON(http.StatusOK, gin.H{"channels": out})
}

func (h *Handler) showChannelAPI(c *gin.Context) {
	id, ok := h.idParam(c, "id")
	if !ok {
		return
	}
	ch, err := h.store.Channel(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	ds, err := h.store.ChannelDeliveries(c.Request.Context(), id, 50)
	if err != nil {
		h.fail(c, err)
		return
	}
	type deliveryJSON struct {
		EventID   string `json:"event_id"`
		State     string `json:"state"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		Kind      string `json:"kind"`
		Status    string `json:"status"`
	}
	out := []deliveryJSON{}
	for _, d := range ds {
		out = append(out, deliveryJSON{EventID: d.Event.UID, State: d.State, Attempts: d.Attempts, LastError: d.LastError,
			Kind: string(d.Event.Kind), Status: string(d.Event.Status)})
	}
	c.JSON(http.StatusOK, gin.H{"channel": toChannelJSON(ch), "deliveries": out})
}

func (h *Handler) saveChannelAPI(c *gin.Context) {
	var in models.ChannelInput
	if err := readJSON(c, &in); err != nil {
		h.fail(c, err)
		return
	}
	var ch models.Channel
	var err error
	status := http.StatusCreated
	if c.Param("id") == "" {
		ch, err = h.store.CreateChannel(c.Request.Context(), actor(c), in)
	} else {
		id, ok := h.idParam(c, "id")
		if !ok {
			return
		}
		status = http.StatusOK
		ch, err = h.store.UpdateChannel(c.Request.Context(), actor(c), id, in)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(status, toChannelJSON(ch))
}
