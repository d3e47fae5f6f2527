package models

import (
	"testing"
	"time"
)

func TestLoginBackoff(t *testing.T) {
	p := LoginThrottle{FreeFailures: 5, BaseDelay: time.Second, MaxDelay: 15 * time.Minute}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {4, 0},
		{5, time.Second},        // the first failure over the free ones
		{6, 2 * time.Second},    // doubles
		{7, 4 * time.Second},    // 1 s × 2²
		{14, 512 * time.Second}, // 1 s × 2⁹
		{15, 900 * time.Second}, // 1024 s, capped at 15 min
		{1000, 900 * time.Second},
	} {
		if got := p.Backoff(tc.failures); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	if got := (LoginThrottle{}).Backoff(100); got != 0 {
		t.Errorf("with FreeFailures 0 the back-off is off, got %v", got)
	}
}
