package sqlstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/sitemetrics/sitemetrics/models"
)

// queuedChange is a rollupChange as rollup_queue keeps it: the hour differences a
// column each (the day differences are their sums), then the series data times and
// the SLOs whose data changed.
type queuedChange struct {
	SLO      []int64
	Gen      []int
	Hour     []int64
	Bad      []float64
	Total    []float64
	Excluded []int
	Series   []int64
	Last     []int64
	SLOs     []int64
}

// The first byte of a queued change is the version of its encoding. Format 1 wrote
// integers as varints and numbers as their eight bytes; format 2 writes each integer
// column as differences from the value before (a plan's columns follow its series, so
// mostly one or two bytes each) and whole numbers as varints, which took the change of
// a delivery of 1,000 SLOs' newest bucket from 33,893 bytes to 10,028
// (TestQueuedChangeSize), and the queue's share of PostgreSQL's WAL with it. A fold reads both, so changes queued by a replica not yet
// upgraded are folded in.
const (
	queuedFormat1 = 1
	queuedFormat  = 2
)

// queuedOf lays a change out in columns, in its order: a plan's hours follow its
// series, whose ids mostly follow their SLOs'.
func queuedOf(c *rollupChange) queuedChange {
	n, m := len(c.hours), len(c.last)
	q := queuedChange{SLO: make([]int64, n), Gen: make([]int, n), Hour: make([]int64, n), Bad: make([]float64, n),
		Total: make([]float64, n), Excluded: make([]int, n), Series: make([]int64, m), Last: make([]int64, m), SLOs: c.slos}
	for i, d := range c.hours {
		q.SLO[i], q.Gen[i], q.Hour[i] = d.slo, d.gen, d.at
		q.Bad[i], q.Total[i], q.Excluded[i] = d.Bad, d.Total, d.Excluded
	}
	for i, l := range c.last {
		q.Series[i], q.Last[i] = l.series, l.bucket
	}
	return q
}

// encode writes q compactly, for a fold to read back soon after: the format byte, then
// each column as its length and its values (format 2). A fold of 1,000 SLOs' changes
// spent more time decoding them as JSON than PostgreSQL spent applying them.
func (q queuedChange) encode() []byte {
	b := make([]byte, 0, 16+len(q.SLO)*10+len(q.Series)*3+len(q.SLOs))
	b = append(b, queuedFormat)
	b = appendInts(b, q.SLO)
	b = appendInts(b, q.Gen)
	b = appendInts(b, q.Hour)
	b = appendFloats(b, q.Bad)
	b = appendFloats(b, q.Total)
	b = appendInts(b, q.Excluded)
	b = appendInts(b, q.Series)
	b = appendInts(b, q.Last)
	return appendInts(b, q.SLOs)
}

// appendInts writes a column's length, then each value's difference from the one
// before it (the first one's from zero).
func appendInts[T ~int | ~int64](b []byte, xs []T) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	prev := int64(0)
	for _, x := range xs {
		b = binary.AppendVarint(b, int64(x)-prev)
		prev = int64(x)
	}
	return b
}

// wholeLimit bounds the whole numbers written as varints: every integer up to it is a
// float64 exactly.
const wholeLimit = 1 << 53

// appendFloats writes a column's length, then each number: a whole number within
// ±wholeLimit as a varint of twice its zigzag form, any other as the varint 1 and its
// eight bytes.
func appendFloats(b []byte, xs []float64) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		if x == math.Trunc(x) && math.Abs(x) <= wholeLimit {
			b = binary.AppendUvarint(b, zigzag(int64(x))<<1)
			continue
		}
		b = binary.AppendUvarint(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// errQueuedShort means a queued change ended before its columns did.
var errQueuedShort = errors.New("queued roll-up change is cut short")

// read reads what encode wrote, in either format, into q, checking that it is whole and
// its columns line up. It reuses q's columns' room: a fold reads many changes one after
// another. On an error q holds nothing to use.
func (q *queuedChange) read(raw []byte) error {
	if len(raw) == 0 || (raw[0] != queuedFormat && raw[0] != queuedFormat1) {
		return fmt.Errorf("queued roll-up change is not in format %d or %d", queuedFormat1, queuedFormat)
	}
	r := queuedReader{b: raw[1:], v1: raw[0] == queuedFormat1}
	q.SLO, q.Gen, q.Hour = readInts(&r, q.SLO), readInts(&r, q.Gen), readInts(&r, q.Hour)
	q.Bad, q.Total, q.Excluded = r.floats(q.Bad), r.floats(q.Total), readInts(&r, q.Excluded)
	q.Series, q.Last, q.SLOs = readInts(&r, q.Series), readInts(&r, q.Last), readInts(&r, q.SLOs)
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("queued roll-up change has %d bytes after its columns", len(r.b))
	}
	if r.err != nil {
		return r.err
	}
	return q.check()
}

// queuedReader reads columns off b until the first error; v1 says b is in format 1.
type queuedReader struct {
	b   []byte
	v1  bool
	err error
}

// length reads a column's length, which the bytes left must be able to hold at size
// bytes a value at least.
func (r *queuedReader) length(size int) int {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k)/uint64(size) {
		r.err = errQueuedShort
		return 0
	}
	r.b = r.b[k:]
	return int(n)
}

// readInts reads a column of integers into room's space.
func readInts[T ~int | ~int64](r *queuedReader, room []T) []T {
	n := r.length(1)
	out := slices.Grow(room[:0], n)[:n]
	prev := int64(0)
	for i := range out {
		x, k := binary.Varint(r.b)
		if k <= 0 {
			r.err = errQueuedShort
			return nil
		}
		if !r.v1 {
			x += prev
			prev = x
		}
		out[i], r.b = T(x), r.b[k:]
	}
	return out
}

// floats reads a column of finite numbers: a NaN or an infinity summed into a roll-up
// would stay in it for good.
func (r *queuedReader) floats(room []float64) []float64 {
	size := 1
	if r.v1 {
		size = 8
	}
	n := r.length(size)
	out := slices.Grow(room[:0], n)[:n]
	for i := range out {
		if out[i] = r.float(); r.err != nil {
			return nil
		}
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			r.err = fmt.Errorf("queued roll-up change holds %v", out[i])
			return nil
		}
	}
	return out
}

// float reads one number as appendFloats (or format 1) wrote it.
func (r *queuedReader) float() float64 {
	if !r.v1 {
		u, k := binary.Uvarint(r.b)
		if k <= 0 {
			r.err = errQueuedShort
			return 0
		}
		r.b = r.b[k:]
		switch {
		case u&1 == 0:
			return float64(unzigzag(u >> 1))
		case u != 1:
			r.err = fmt.Errorf("queued roll-up change holds a number marked %d, neither whole (even) nor eight bytes (1)", u)
			return 0
		}
	}
	if len(r.b) < 8 {
		r.err = errQueuedShort
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return x
}

// check says whether a queued change's columns line up.
func (q queuedChange) check() error {
	n := len(q.SLO)
	if len(q.Gen) != n || len(q.Hour) != n || len(q.Bad) != n || len(q.Total) != n || len(q.Excluded) != n || len(q.Series) != len(q.Last) {
		return fmt.Errorf("queued roll-up change has columns of different lengths")
	}
	return nil
}

// addQueued sums a checked queued change in.
func (s *rollupSum) addQueued(q queuedChange) {
	for i := range q.SLO {
		s.addHour(rollupKey{q.SLO[i], q.Gen[i], q.Hour[i]}, models.Sums{Bad: q.Bad[i], Total: q.Total[i], Excluded: q.Excluded[i]})
	}
	for i, id := range q.Series {
		s.addLast(id, q.Last[i])
	}
	s.count(q.SLOs)
}
