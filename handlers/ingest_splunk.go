package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
	"github.com/sitemetrics/sitemetrics/models/spool"
)

// ingestAnswer is the webhook's JSON answer: rows new to their bucket (accepted),
// replacing a different stored row (replaced), equal to it (duplicates), rejected with
// their reasons; and rows whose time fell back to receipt or lies outside every window.
type ingestAnswer struct {
	Accepted        int                `json:"accepted"`
	Replaced        int                `json:"replaced"`
	Duplicates      int                `json:"duplicates"`
	Rejected        []models.Rejection `json:"rejected"`
	TimeFromReceipt int                `json:"time_from_receipt"`
	OutsideWindow   int                `json:"outside_window"`
	DeliveryID      int64              `json:"delivery_id,omitempty"`
	Spooled         bool               `json:"spooled,omitempty"`
}

// ingestSplunk receives a Splunk webhook. A 2xx means the rows are committed
// to the database, or fsynced to the local spool while the database is down.
func (h *Handler) ingestSplunk(c *gin.Context) {
	ctx := c.Request.Context()
	received := h.now()
	token := c.Param("token")
	if token == "" {
		token = bearer(c)
	}
	if token == "" {
		h.countDelivery("unknown_token")
		h.failJSON(c, http.StatusUnauthorized, models.Errorf(models.EUNAUTHORIZED,
			"missing token: post to /hooks/splunk/{token}, or send Authorization: Bearer {token}"))
		return
	}
	feed, tokenID, err := h.feedForToken(c, token)
	if err != nil {
		if models.ErrorCode(err) == models.ENOTFOUND {
			h.countDelivery("unknown_token")
		}
		h.fail(c, err)
		return
	}

	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, h.cfg.IngestMaxBytes)
	body, err := readBody(c.Request.Body, min(c.Request.ContentLength, h.cfg.IngestMaxBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		refusal := models.Errorf(models.ETOOLARGE, "body is over the %d-byte limit (SITEMETRICS_INGEST_MAX_BYTES)", h.cfg.IngestMaxBytes)
		size := int(c.Request.ContentLength)
		if size < len(body) {
			size = len(body) + 1
		}
		if !h.store.Down() {
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if rerr := h.store.RecordRefusal(rctx, feed, tokenID, body, size, c.ContentType(), received, refusal, h.cfg.DeliveryKeep); rerr != nil {
				h.log.ErrorContext(ctx, "could not record a refused delivery", "feed_id", feed.ID, "err", rerr)
			}
			cancel()
		}
		h.countDelivery(models.OutcomeRefused)
		h.failJSON(c, http.StatusRequestEntityTooLarge, refusal)
		return
	}
	if err != nil {
		h.failJSON(c, http.StatusBadRequest, models.Errorf(models.EINVALID, "could not read the body: %v", err))
		return
	}

	// While deliveries wait in the spool, new ones join them, so that replay keeps
	// their order (a later row for a bucket replaces an earlier one).
	if h.spool != nil && (h.spool.Len() > 0 || h.store.Down()) {
		h.spoolDelivery(c, feed, tokenID, body, received, errors.New("the spool is not empty or the database is down"))
		return
	}
	res, err := h.store.IngestBody(ctx, feed, tokenID, body, c.GetHeader("Content-Type"), received, h.ingestOptions())
	switch code := models.ErrorCode(err); {
	case err == nil:
		h.countDelivery(res.Outcome)
		h.metrics.Rows.WithLabelValues("accepted").Add(float64(res.Accepted))
		h.metrics.Rows.WithLabelValues("duplicate").Add(float64(res.Duplicates))
		h.metrics.Rows.WithLabelValues("rejected").Add(float64(len(res.Rejected)))
		c.JSON(deliveryStatus(res.Outcome, ""), ingestAnswer{Accepted: res.Accepted, Replaced: res.Replaced, Duplicates: res.Duplicates,
			Rejected: res.Rejected, TimeFromReceipt: res.FromReceipt, OutsideWindow: res.OutsideWindow, DeliveryID: res.DeliveryID})
	case code == models.EINVALID || code == models.ETOOLARGE:
		h.countDelivery(models.OutcomeRefused)
		h.failJSON(c, statusFor(err), err)
	case h.store.Unavailable(err) && h.spool != nil:
		h.spoolDelivery(c, feed, tokenID, body, received, err)
	default:
		h.countDelivery("error")
		h.fail(c, err)
	}
}

// spoolDelivery keeps a delivery on local disk while the database is down,
// and answers 202 with what the rows will become.
func (h *Handler) spoolDelivery(c *gin.Context, feed models.Feed, tokenID int64, body []byte, received time.Time, cause error) {
	ctx := c.Request.Context()
	parsed, perr := splunk.Parse(body, c.GetHeader("Content-Type"), splunk.Options{
		TimeField: feed.TimeField, SeriesField: feed.SeriesField, ReceivedAt: received, MaxRows: h.cfg.IngestMaxRows})
	if perr != nil {
		h.countDelivery(models.OutcomeRefused)
		h.failJSON(c, statusFor(perr), perr)
		return
	}
	h.store.CheckSpooled(feed.ID, &parsed)
	err := h.spool.Put(spool.Delivery{FeedID: feed.ID, TokenID: tokenID, ReceivedAt: received,
		ContentType: c.GetHeader("Content-Type"), Body: body})
	if err != nil {
		h.countDelivery("error")
		h.log.ErrorContext(ctx, "database down and spool failed: delivery refused", "feed_id", feed.ID, "db_err", cause, "err", err)
		h.failJSON(c, http.StatusServiceUnavailable, models.Errorf(models.EUNAVAILABLE, "storage unavailable; the delivery was not stored"))
		return
	}
	h.log.WarnContext(ctx, "database unavailable: delivery spooled", "feed_id", feed.ID, "rows", len(parsed.Rows), "err", cause)
	h.countDelivery(models.OutcomeSpooled)
	h.metrics.Rows.WithLabelValues("spooled").Add(float64(len(parsed.Rows)))
	rejected := parsed.Rejected
	if rejected == nil {
		rejected = []models.Rejection{}
	}
	c.JSON(http.StatusAccepted, ingestAnswer{Accepted: len(parsed.Rows), Rejected: rejected, Spooled: true})
}

// readBody reads a request's body into a buffer the size its Content-Length gives (at
// most one byte over the limit, which the reader, an http.MaxBytesReader, enforces), not
// one grown from 512 bytes by doubling: a 1,000-row delivery is about 70 KB.
func readBody(r io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, length+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

func (h *Handler) countDelivery(outcome string) {
	h.metrics.Deliveries.WithLabelValues(outcome).Inc()
}

// tokenFresh is how long a looked-up token is trusted without asking the
// database again. It saves a round trip per delivery; a token revoked on
// another replica stops working within this time (on this one, at once).
const tokenFresh = 5 * time.Second

// feedForToken finds the token's feed: from this replica's recent lookups,
// else the database; and while the database cannot be reached, from any
// earlier lookup, so that the spool can take the delivery.
func (h *Handler) feedForToken(c *gin.Context, token string) (models.Feed, int64, error) {
	now := time.Now()
	cached, ok := h.tokens.get(token)
	if ok && now.Sub(cached.at) < tokenFresh {
		return cached.feed, cached.tokenID, nil
	}
	hash := models.HashSecret(token)
	var feed models.Feed
	var tokenID int64
	var err error = models.Errorf(models.EUNAVAILABLE, "database unreachable")
	if !h.store.Down() {
		ctx, cancel := context.WithTimeout(c.Request.Context(), time.Second) // a hung database must not hold Splunk
		feed, tokenID, err = h.store.FeedByToken(ctx, token)
		cancel()
	}
	switch {
	case err == nil:
		h.tokens.put(token, tokenEntry{feed: feed, tokenID: tokenID, at: now})
		if h.known != nil {
			if err := h.known.Remember(hash, spool.Known{Feed: feed, TokenID: tokenID}); err != nil {
				h.log.WarnContext(c.Request.Context(), "could not keep the feed token on disk for outages", "feed_id", feed.ID, "err", err)
			}
		}
		return feed, tokenID, nil
	case models.ErrorCode(err) == models.ENOTFOUND:
		h.tokens.drop(token)
		if h.known != nil {
			if err := h.known.Forget(hash); err != nil {
				h.log.WarnContext(c.Request.Context(), "could not forget a revoked feed token on disk", "err", err)
			}
		}
		return models.Feed{}, 0, err
	case (h.store.Down() || h.store.Unavailable(err)) && h.spool != nil:
		if ok {
			return cached.feed, cached.tokenID, nil
		}
		if h.known != nil {
			if k, found := h.known.Lookup(hash); found {
				return k.Feed, k.TokenID, nil
			}
		}
	}
	// Never the driver's words: they name the database's host and user.
	return models.Feed{}, 0, models.Errorf(models.EUNAVAILABLE, "storage unavailable: the delivery was not stored, try again later")
}

// tokenCache remembers, per replica, which feed a token opened, keyed by the
// token's hash.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]tokenEntry
}

type tokenEntry struct {
	feed    models.Feed
	tokenID int64
	at      time.Time
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]tokenEntry{}} }

func (t *tokenCache) put(token string, e tokenEntry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) > 10000 {
		clear(t.m)
	}
	t.m[string(models.HashSecret(token))] = e
}

func (t *tokenCache) drop(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, string(models.HashSecret(token)))
}

// forget empties the cache, after a token or feed was revoked or deleted here.
func (t *tokenCache) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.m)
}

func (t *tokenCache) get(token string) (tokenEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[string(models.HashSecret(token))]
	return e, ok
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(c *gin.Context) string {
	a := c.GetHeader("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// ingestOptions bound what one delivery may carry.
func (h *Handler) ingestOptions() models.IngestOptions {
	return models.IngestOptions{MaxRows: h.cfg.IngestMaxRows, MaxRawBytes: h.cfg.DeliveryKeep}
}
