package splunk

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseBatch parses a 1,000-row {"results": [...]} delivery shaped like
// make bench-scale's (a series, a time and two counts, all strings, as Splunk sends them).
// go test -run '^$' -bench ParseBatch -benchmem ./models/splunk
func BenchmarkParseBatch(b *testing.B) {
	var rows []string
	for i := 0; i < 1000; i++ {
		rows = append(rows, fmt.Sprintf(`{"service":"svc-%04d","_time":"%d","total":"%d","good":"%d"}`,
			i, received.Unix()-int64(i%12)*300, 1000+i, 990+i%10))
	}
	body := []byte(`{"results":[` + strings.Join(rows, ",") + `]}`)
	opt := Options{SeriesField: "service", ReceivedAt: received}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := Parse(body, "application/json", opt)
		if err != nil || len(out.Rows) != 1000 {
			b.Fatalf("%d rows, %v", len(out.Rows), err)
		}
	}
}
