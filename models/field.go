package models

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Rejection names a row that was not accepted, and why.
type Rejection struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// CheckFieldName refuses names Splunk would never produce and views could not show.
func CheckFieldName(k string) error {
	if k == "" {
		return errors.New("is empty")
	}
	if len(k) > MaxFieldName {
		return fmt.Errorf("is %d bytes long, the limit is %d", len(k), MaxFieldName)
	}
	for _, r := range k {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("contains the control character %U", r)
		}
	}
	return nil
}

// MaxFieldName is the longest field name a row may carry, in bytes.
const MaxFieldName = 128

// Truncate cuts s to at most n bytes without splitting a UTF-8 sequence,
// marking the cut with "…", so that what a client sent fits its column.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
