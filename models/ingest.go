package models

import (
	"encoding/json"
	"time"
)

// Delivery outcomes, as the delivery log shows them.
const (
	OutcomeAccepted  = "accepted"  // every row stored (some may have been duplicates)
	OutcomeDuplicate = "duplicate" // every row had been stored before
	OutcomePartial   = "partial"   // some rows stored, some rejected
	OutcomeRejected  = "rejected"  // every row rejected
	OutcomeRefused   = "refused"   // the body itself was refused (not JSON, too large, …)
	OutcomeSpooled   = "spooled"   // accepted into the local spool while the database was down
)

// Delivery is one webhook POST as received, kept whatever its outcome.
type Delivery struct {
	ID         int64     `gorm:"primaryKey" json:"id"`
	FeedID     int64     `json:"feed_id"`
	TokenID    *int64    `json:"token_id"`
	ReceivedAt time.Time `json:"received_at"`
	Outcome    string    `json:"outcome"`
	// Code is the error code of a refused delivery (EINVALID, ETOOLARGE, …); empty otherwise.
	Code          string `json:"code"`
	Shape         string `json:"shape"`
	ContentType   string `json:"content_type"`
	SID           string `gorm:"column:sid" json:"sid"`
	SearchName    string `json:"search_name"`
	ResultsLink   string `json:"results_link"`
	Body          []byte `json:"-"`
	BodyBytes     int    `json:"body_bytes"`
	BodyTruncated bool   `json:"body_truncated"`
	RowsTotal     int    `json:"rows"`
	Accepted      int    `json:"accepted"`
	Duplicates    int    `json:"duplicates"`
	Rejected      int    `json:"rejected"`
	Error         string `json:"error"`
	Rejections    string `json:"-"`
}

// RejectionList decodes the stored rejections.
func (d Delivery) RejectionList() []Rejection {
	var out []Rejection
	_ = json.Unmarshal([]byte(d.Rejections), &out)
	if out == nil {
		out = []Rejection{}
	}
	return out
}

// IngestResult is what the webhook answers.
type IngestResult struct {
	DeliveryID int64       `json:"delivery_id"`
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Rejected   []Rejection `json:"rejected"`
	Outcome    string      `json:"-"`
}

// Settle sets the outcome from the row counts.
func (d *Delivery) Settle() {
	switch {
	case d.Rejected > 0 && d.Accepted+d.Duplicates == 0:
		d.Outcome = OutcomeRejected
	case d.Rejected > 0:
		d.Outcome = OutcomePartial
	case d.Accepted == 0 && d.Duplicates > 0:
		d.Outcome = OutcomeDuplicate
	default:
		d.Outcome = OutcomeAccepted
	}
}

// DeliveryQuery pages through a feed's delivery log, newest first.
type DeliveryQuery struct {
	Limit    int
	BeforeID int64  // 0 = from the newest
	Outcome  string // "" = any
}

// Sample is a stored row as the API returns it.
type Sample struct {
	ID          int64              `json:"id"`
	Time        time.Time          `json:"time"`
	Series      string             `json:"series"`
	Fields      map[string]float64 `json:"fields"`
	SID         string             `json:"sid"`
	ResultsLink string             `json:"results_link"`
	DeliveryID  *int64             `json:"delivery_id"`
}

// SampleQuery selects samples of one feed, oldest first.
type SampleQuery struct {
	Series   *string
	From, To time.Time // To is exclusive; zero = unbounded
	AfterID  int64     // paging cursor: samples with (ts, id) after this sample's
	Limit    int
	Newest   bool // the latest Limit samples, newest first
}

// IngestOptions bound what one delivery may carry.
type IngestOptions struct {
	MaxRows     int
	MaxRawBytes int // how much of a refused body the delivery log keeps
}

func (d *Delivery) KeepAtMost(n int) {
	if n > 0 && len(d.Body) > n {
		d.Body, d.BodyTruncated = d.Body[:n], true
	}
}
