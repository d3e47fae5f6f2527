package handlers

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sitemetrics/sitemetrics/models"
)

// apiMaxBody is the largest JSON body the API reads (imports and previews,
// which take files, have their own limits).
const apiMaxBody = 1 << 20

// readJSON reads a JSON API body strictly: at most apiMaxBody bytes (413
// past that, not a parse error), exactly one JSON value (trailing garbage
// such as `{"a":1} rm -rf` is refused, not ignored), and no unknown fields.
func readJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, apiMaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// Anything after the value but white space is an error, and so is a
		// body that goes on past the limit after a complete value.
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
		err = jsonError(err, "the body holds something after its JSON value")
	} else {
		err = jsonError(err, "the body is not valid JSON for this endpoint")
	}
	return err
}

// jsonError turns a decoding failure into a coded error; the safe message
// keeps the decoder's text, which describes the client's own input.
func jsonError(err error, what string) error {
	var me *models.Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return models.Wrap(models.ETOOLARGE, err, "the body is over the %d-byte limit of the API", apiMaxBody)
	case errors.As(err, &me):
		return me
	}
	return models.Wrap(models.EINVALID, err, "%s: %v", what, err)
}
