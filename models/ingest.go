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
	// OutcomeQuarantined: spooled and acknowledged, then refused by the database on
	// replay; kept with its reason and its body until an SRE replays it.
	OutcomeQuarantined = "quarantined"
	// OutcomeReplayed: a quarantined delivery an SRE replayed (see its error text for the
	// delivery it became).
	OutcomeReplayed = "replayed"
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
	Replaced      int    `json:"replaced"`
	Duplicates    int    `json:"duplicates"`
	Rejected      int    `json:"rejected"`
	// FromReceipt counts rows whose time fell back to the receipt time (no time field,
	// no time in the sid); OutsideWindow counts rows stamped far from their receipt.
	FromReceipt   int    `json:"time_from_receipt"`
	OutsideWindow int    `json:"outside_window"`
	Error         string `json:"error"`
	Rejections    string `json:"-"`
}

// RejectionList decodes the stored rejections. Rejections that cannot be decoded are
// listed as one entry that says so, rather than as none.
func (d Delivery) RejectionList() []Rejection {
	var out []Rejection
	if d.Rejections != "" {
		if err := json.Unmarshal([]byte(d.Rejections), &out); err != nil {
			return []Rejection{{Reason: "the stored rejections cannot be read: " + err.Error()}}
		}
	}
	if out == nil {
		out = []Rejection{}
	}
	return out
}

// IngestResult is what the webhook answers.
type IngestResult struct {
	DeliveryID    int64       `json:"delivery_id"`
	Accepted      int         `json:"accepted"`
	Replaced      int         `json:"replaced"`
	Duplicates    int         `json:"duplicates"`
	Rejected      []Rejection `json:"rejected"`
	FromReceipt   int         `json:"time_from_receipt"`
	OutsideWindow int         `json:"outside_window"`
	Outcome       string      `json:"-"`
}

// Settle sets the outcome from the row counts.
func (d *Delivery) Settle() {
	stored := d.Accepted + d.Replaced
	switch {
	case d.Rejected > 0 && stored+d.Duplicates == 0:
		d.Outcome = OutcomeRejected
	case d.Rejected > 0:
		d.Outcome = OutcomePartial
	case stored == 0 && d.Duplicates > 0:
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

// PageSize is how many deliveries the query returns at most: Limit, at most 100;
// 50 when Limit is not set. A full page means there may be more.
func (q DeliveryQuery) PageSize() int {
	if q.Limit <= 0 {
		return 50
	}
	return min(q.Limit, 100)
}

// Sample is a stored bucket of one series, as the API returns it. Time is the bucket's
// start: the row's time floored to the feed's interval.
type Sample struct {
	SeriesID    int64              `json:"-"`
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
	// After pages on: samples after this one in (time, series) order.
	After  *SampleCursor
	Limit  int
	Newest bool // the latest Limit samples, newest first
}

// SampleCursor is where a page of samples ended.
type SampleCursor struct {
	Time     time.Time
	SeriesID int64
}

// IngestOptions bound what one delivery may carry.
type IngestOptions struct {
	MaxRows     int
	MaxRawBytes int // how much of a refused body the delivery log keeps
}

// KeepAtMost cuts the kept raw body to n bytes, marking it truncated.
func (d *Delivery) KeepAtMost(n int) {
	if n > 0 && len(d.Body) > n {
		d.Body, d.BodyTruncated = d.Body[:n], true
	}
}

// WindowSpan is the span of row times an SLO window can hold, for rows received at
// received: from the longest window (a leap year) and a quarter more before the receipt
// to a day after it. Rows outside it are stored (nothing accepted is lost) but counted,
// so a wrong time field or an epoch in the wrong unit shows on the feed's page.
func WindowSpan(received time.Time) (from, to time.Time) {
	return received.AddDate(0, 0, -(MaxWindowDays + 92)), received.Add(24 * time.Hour)
}
