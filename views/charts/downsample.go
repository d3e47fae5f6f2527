package charts

import (
	"math"
	"time"
)

// Point is one sample of a series: a time and a value (a fraction for budgets
// and SLIs, milliseconds for latency). NoData marks a slot without samples;
// the line breaks there instead of bridging the gap. A NaN or infinite value
// is treated as no data too.
type Point struct {
	T      time.Time
	V      float64
	NoData bool
}

// ok reports whether the point carries a plottable value.
func (p Point) ok() bool {
	return !p.NoData && !math.IsNaN(p.V) && !math.IsInf(p.V, 0)
}

// downsample reduces pts to at most max points by splitting the interior into
// equal index buckets and keeping, from each, the minimum and the maximum in
// time order. Unlike averaging or picking every n-th point, this keeps every
// spike and every dip that an executive must not miss; first and last points
// are always kept so the line spans the whole period. A bucket that contains
// a gap also keeps one no-data point, so gaps stay visible.
func downsample(pts []Point, max int) []Point {
	n := len(pts)
	if n <= max {
		return pts
	}
	if max < 4 {
		max = 4
	}
	perBucket := 2
	for _, p := range pts {
		if !p.ok() {
			perBucket = 3
			break
		}
	}
	inner := pts[1 : n-1]
	buckets := (max - 2) / perBucket
	out := make([]Point, 0, max)
	out = append(out, pts[0])
	for b := range buckets {
		lo, hi := b*len(inner)/buckets, (b+1)*len(inner)/buckets
		minI, maxI, gapI := -1, -1, -1
		for i := lo; i < hi; i++ {
			p := &inner[i]
			if !p.ok() {
				if gapI < 0 {
					gapI = i
				}
				continue
			}
			if minI < 0 || p.V < inner[minI].V {
				minI = i
			}
			if maxI < 0 || p.V > inner[maxI].V {
				maxI = i
			}
		}
		out = appendInOrder(out, inner, minI, maxI, gapI)
	}
	return append(out, pts[n-1])
}

// appendInOrder appends the distinct, valid indexes of inner in index order,
// so the polyline never runs backwards in time.
func appendInOrder(out, inner []Point, idx ...int) []Point {
	last := -1
	for range idx {
		next := -1
		for _, i := range idx {
			if i > last && (next < 0 || i < next) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		out = append(out, inner[next])
		last = next
	}
	return out
}
