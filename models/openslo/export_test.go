package openslo

import (
	"testing"
	"time"
)

func TestExportOfNothingIsEmpty(t *testing.T) {
	out, err := Export(nil, nil, nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("%q %v", out, err)
	}
}

func TestFormatSliceWindow(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{{5 * time.Minute, "5m"}, {time.Hour, "1h"}, {90 * time.Minute, "90m"}, {24 * time.Hour, "1d"}, {30 * time.Second, "30s"}}
	for _, tc := range tests {
		if got := FormatSliceWindow(tc.d); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.d, got, tc.want)
		}
	}
}
