package charts

// dash is the stroke-dasharray of each line kind, shared by the chart and its
// legend swatch. Patterns are presentation attributes rather than CSS so that
// lines stay distinguishable even where the stylesheet is missing, and so
// that no two lines in one chart differ by colour alone.
func dash(kind string) string {
	switch kind {
	case "ideal", "target":
		return "6 4"
	case "proj":
		return "2 4"
	case "now":
		return "2 3"
	case "threshold":
		return thresholdDash
	case "ann-incident":
		return "4 3"
	case "ann-adjusted":
		return "1 3"
	case "p50", "p95", "p99":
		return latencyDash(kind)
	default:
		return ""
	}
}
