package models

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Every input names every field at fault at once, in the order of its checks;
// as an error it still reads as its first field (what callers of *Error see).
func TestValidateNamesEveryField(t *testing.T) {
	svc := int64(1)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		valid  func() error
		fields []string
	}{
		{"SLO: name, target and window", func() error {
			in := SLOInput{Service: "checkout", Name: "Checkout Availability", Indicator: "ratio", Target: "100", Window: "fortnight",
				Feed: "web", GoodField: "good", TotalField: "total"}
			_, err := in.Validate()
			return err
		}, []string{"name", "window", "target"}},
		{"SLO: nothing filled in", func() error {
			in := SLOInput{Indicator: "ratio"}
			_, err := in.Validate()
			return err
		}, []string{"name", "service", "feed", "window", "target", "total_field", "good_field"}},
		{"SLO: threshold without value field, operator or threshold, in a zone that is not one", func() error {
			in := SLOInput{Service: "checkout", Name: "checkout-latency", Indicator: "threshold", Target: "99", Window: "month",
				TimeZone: "Europe/Madird", Feed: "web", Op: "about", Threshold: "fast"}
			_, err := in.Validate()
			return err
		}, []string{"time_zone", "value_field", "op", "threshold"}},
		{"SLO: a bad field name on its own field", func() error {
			in := SLOInput{Service: "checkout", Name: "checkout-availability", Indicator: "ratio", Target: "99.9", Window: "28d",
				Feed: "web", GoodField: strings.Repeat("g", MaxFieldName+1), TotalField: "total"}
			_, err := in.Validate()
			return err
		}, []string{"good_field"}},
		{"service: name, team and tier", func() error {
			in := ServiceInput{Name: "Check Out", Team: strings.Repeat("t", 101), Tier: strings.Repeat("1", 51)}
			return in.Validate()
		}, []string{"name", "team", "tier"}},
		{"feed: name, interval and series field", func() error {
			in := FeedInput{Name: "Web Feed", Interval: "5 minutes", SeriesField: "service\x00"}
			_, err := in.Validate()
			return err
		}, []string{"name", "interval", "series_field"}},
		{"feed: sample policy and retention", func() error {
			in := FeedInput{Name: "web", SamplePolicy: "sum", RetentionDays: "3"}
			_, err := in.Validate()
			return err
		}, []string{"sample_policy", "retention_days"}},
		{"maintenance: scope, end and reason", func() error {
			in := MaintenanceInput{StartsAt: at, EndsAt: at.Add(-time.Hour)}
			return in.Validate()
		}, []string{"slo_id", "ends_at", "reason"}},
		{"maintenance: a service and nothing else", func() error {
			in := MaintenanceInput{ServiceID: &svc}
			return in.Validate()
		}, []string{"starts_at", "ends_at", "reason"}},
		{"annotation: kind, title and link", func() error {
			in := AnnotationInput{Kind: "release", Link: "ftp://example.com"}
			return in.Validate()
		}, []string{"kind", "title", "link"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.valid()
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("want FieldErrors, got %T %v", err, err)
			}
			var got []string
			for _, e := range fe {
				got = append(got, e.Field)
				if e.Code != EINVALID || e.Message == "" {
					t.Errorf("%s: code %q message %q", e.Field, e.Code, e.Message)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
			var first *Error
			if !errors.As(err, &first) || first.Field != tc.fields[0] || err.Error() != first.Message || ErrorCode(err) != EINVALID {
				t.Fatalf("as one error: %v (field %v)", err, first)
			}
		})
	}
}

func TestFieldErrorsAddKeepsTheFirstPerField(t *testing.T) {
	var fe FieldErrors
	if fe.Err() != nil {
		t.Fatal("no errors is not an error")
	}
	fe.Add("target", "first")
	fe.Add("target", "second")
	fe.AddErr(FieldErrorf("window", "w"))
	fe.AddErr(FieldErrors{FieldErrorf("window", "again"), FieldErrorf("name", "n")})
	if len(fe) != 3 || fe[0].Message != "first" || fe[1].Field != "window" || fe[2].Field != "name" || !fe.Has("name") || fe.Has("feed") {
		t.Fatalf("%+v", fe)
	}
	if ok := fe.AddErr(nil); !ok || len(fe) != 3 {
		t.Fatal("AddErr(nil)")
	}
}
