package sqlstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
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

// queuedFormat is the first byte of a queued change: the version of its encoding.
const queuedFormat = 1

// queuedOf lays a change out in columns, hours and series in order.
func queuedOf(c *rollupChange) queuedChange {
	q := queuedChange{SLOs: c.slos}
	for _, k := range sortedRollups(c.hours) {
		d := c.hours[k]
		q.SLO, q.Gen, q.Hour = append(q.SLO, k.slo), append(q.Gen, k.gen), append(q.Hour, k.at)
		q.Bad, q.Total, q.Excluded = append(q.Bad, d.Bad), append(q.Total, d.Total), append(q.Excluded, d.Excluded)
	}
	for _, id := range slices.Sorted(maps.Keys(c.last)) {
		q.Series, q.Last = append(q.Series, id), append(q.Last, c.last[id])
	}
	return q
}

// encode writes q compactly, for a fold to read back soon after: the format byte, then
// each column as its length and its values, integers as varints and floats as their
// eight bytes. A fold of 1,000 SLOs' changes spent more time decoding them as JSON
// than PostgreSQL spent applying them.
func (q queuedChange) encode() []byte {
	b := make([]byte, 0, 16+len(q.SLO)*32+len(q.Series)*12+len(q.SLOs)*4)
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

func appendInts[T ~int | ~int64](b []byte, xs []T) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.AppendVarint(b, int64(x))
	}
	return b
}

func appendFloats(b []byte, xs []float64) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// errQueuedShort means a queued change ended before its columns did.
var errQueuedShort = errors.New("queued roll-up change is cut short")

// decodeQueued reads what encode wrote, checking that it is whole and its columns line up.
func decodeQueued(raw []byte) (queuedChange, error) {
	if len(raw) == 0 || raw[0] != queuedFormat {
		return queuedChange{}, fmt.Errorf("queued roll-up change is not in format %d", queuedFormat)
	}
	r := queuedReader{b: raw[1:]}
	q := queuedChange{
		SLO: readInts[int64](&r), Gen: readInts[int](&r), Hour: readInts[int64](&r),
		Bad: r.floats(), Total: r.floats(), Excluded: readInts[int](&r),
		Series: readInts[int64](&r), Last: readInts[int64](&r), SLOs: readInts[int64](&r),
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("queued roll-up change has %d bytes after its columns", len(r.b))
	}
	if r.err != nil {
		return queuedChange{}, r.err
	}
	return q, q.check()
}

// queuedReader reads columns off b until the first error.
type queuedReader struct {
	b   []byte
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

func readInts[T ~int | ~int64](r *queuedReader) []T {
	out := make([]T, r.length(1))
	for i := range out {
		x, k := binary.Varint(r.b)
		if k <= 0 {
			r.err = errQueuedShort
			return nil
		}
		out[i], r.b = T(x), r.b[k:]
	}
	return out
}

// floats reads a column of finite numbers: a NaN or an infinity summed into a roll-up
// would stay in it for good.
func (r *queuedReader) floats() []float64 {
	out := make([]float64, r.length(8))
	for i := range out {
		out[i], r.b = math.Float64frombits(binary.LittleEndian.Uint64(r.b)), r.b[8:]
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			r.err = fmt.Errorf("queued roll-up change holds %v", out[i])
			return nil
		}
	}
	return out
}

// check says whether a queued change's columns line up.
func (q queuedChange) check() error {
	n := len(q.SLO)
	if len(q.Gen) != n || len(q.Hour) != n || len(q.Bad) != n || len(q.Total) != n || len(q.Excluded) != n || len(q.Series) != len(q.Last) {
		return fmt.Errorf("queued roll-up change has columns of different lengths")
	}
	return nil
}

// add sums a checked queued change into c, and its SLOs into slos.
func (c *rollupChange) add(q queuedChange, slos map[int64]bool) {
	for i := range q.SLO {
		d := models.Sums{Bad: q.Bad[i], Total: q.Total[i], Excluded: q.Excluded[i]}
		h := rollupKey{q.SLO[i], q.Gen[i], q.Hour[i]}
		day := rollupKey{h.slo, h.gen, floorTo(h.at, daySeconds)}
		c.hours[h], c.days[day] = c.hours[h].Add(d), c.days[day].Add(d)
	}
	for i, id := range q.Series {
		c.last[id] = max(c.last[id], q.Last[i])
	}
	for _, id := range q.SLOs {
		slos[id] = true
	}
}
