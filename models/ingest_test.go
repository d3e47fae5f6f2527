package models

import "testing"

// A listing's page is what was asked for within 1..100, so that a full page (and
// its next link) can be told from the last one whatever limit was asked for.
func TestDeliveryQueryPageSize(t *testing.T) {
	for _, c := range []struct {
		name        string
		limit, want int
	}{
		{"unset", 0, 50},
		{"negative", -1, 50},
		{"one", 1, 1},
		{"the cap", 100, 100},
		{"over the cap", 500, 100},
	} {
		if got := (DeliveryQuery{Limit: c.limit}).PageSize(); got != c.want {
			t.Errorf("%s: Limit %d gives pages of %d, want %d", c.name, c.limit, got, c.want)
		}
	}
}
