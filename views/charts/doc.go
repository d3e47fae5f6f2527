// Package charts turns SLO time series into accessible, CSP-safe inline SVG.
//
// The package has two halves. Plain Go files (scale.go, ticks.go, timeticks.go,
// downsample.go, path.go, layout.go and one file per chart) compute geometry:
// they take plain input structs (time.Time, float64, string — never models
// types) and produce view structs whose numbers are already formatted as
// strings. The .templ files only loop over those structs and print, so every
// user string goes through templ's escaping and no component does arithmetic.
//
// Every chart is a <figure> holding an <svg role="img"> with a <title>, a <desc>
// that states the conclusion, a legend, and a <details> data table. Colours come
// only from the classes in static/css/charts.css: there is no style attribute,
// no <style> and no script, so a strict `style-src 'self'` CSP holds. Lines
// differ by dash pattern and legend text as well as by colour.
//
// Usage: a handler builds the input from the SLO math and passes the laid-out
// chart to the page, which embeds the component:
//
//	burn := charts.NewBurnDown(charts.BurnDownInput{ID: "slo-42-burndown", ...})
//	// in the page's .templ: @charts.BurnDownChart(p.Burn)
//
// Pages link /static/css/charts.css. Element ids are prefixed with the
// input's ID, so two charts on one page need different IDs.
package charts
