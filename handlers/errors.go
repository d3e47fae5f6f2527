package handlers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// apiError is the one JSON error shape: {"error": {"code": …, "message": …}}.
// When several fields are at fault, field and message are the first's and
// field_errors lists them all.
type apiError struct {
	Code        string           `json:"code"`
	Message     string           `json:"message"`
	Field       string           `json:"field,omitempty"`
	FieldErrors []fieldErrorJSON `json:"field_errors,omitempty"`
	RequestID   string           `json:"request_id,omitempty"`
}

type fieldErrorJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// fail answers an error: code → status, logged once here when it is ours.
// An uncoded error that the store classifies as "the database cannot serve
// us" (by its type) is a 503 with a message of our own, never the driver's.
func (h *Handler) fail(c *gin.Context, err error) {
	if models.ErrorCode(err) == models.EINTERNAL && h.store.Unavailable(err) {
		// A database out of reach is not a bug: 503, in words that name no host or user.
		err = models.Wrap(models.EUNAVAILABLE, err, "Sitemetrics cannot reach its database right now. Try again in a moment.")
	}
	status := statusFor(err)
	if status >= 500 && status != http.StatusServiceUnavailable {
		h.log.ErrorContext(c.Request.Context(), "request failed", "route", route(c), "err", err)
	} else if status == http.StatusServiceUnavailable {
		// The store says once when the database goes and comes back; not per request.
		h.log.DebugContext(c.Request.Context(), "dependency unavailable", "route", route(c), "err", err)
	}
	if isAPI(c) {
		h.failJSON(c, status, err)
		return
	}
	h.failPage(c, status, err)
}

func (h *Handler) failJSON(c *gin.Context, status int, err error) {
	e := apiError{Code: models.ErrorCode(err), Message: models.ErrorMessage(err), RequestID: RequestID(c.Request.Context())}
	var me *models.Error
	if errors.As(err, &me) {
		e.Field = me.Field
	}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		for _, f := range fe {
			e.FieldErrors = append(e.FieldErrors, fieldErrorJSON{Field: f.Field, Message: f.Message})
		}
	}
	c.AbortWithStatusJSON(status, gin.H{"error": e})
}

// statusFor is the HTTP status that goes with an error's code.
func statusFor(err error) int { return statusForCode(models.ErrorCode(err)) }

// statusForCode is the one map from error codes to HTTP statuses.
func statusForCode(code string) int {
	switch code {
	case models.EINVALID:
		return http.StatusBadRequest
	case models.ENOTFOUND:
		return http.StatusNotFound
	case models.ECONFLICT:
		return http.StatusConflict
	case models.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case models.EFORBIDDEN:
		return http.StatusForbidden
	case models.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case models.ETOOMANY:
		return http.StatusTooManyRequests
	case models.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// deliveryStatus is the status a webhook delivery is answered with, from its
// outcome: every row rejected is 422, spooled is 202, refused follows its code.
func deliveryStatus(outcome, code string) int {
	switch outcome {
	case models.OutcomeRejected:
		return http.StatusUnprocessableEntity
	case models.OutcomeSpooled, models.OutcomeQuarantined, models.OutcomeReplayed:
		return http.StatusAccepted // what the sender was answered when it was spooled
	case models.OutcomeRefused:
		return statusForCode(code)
	}
	return http.StatusOK
}
