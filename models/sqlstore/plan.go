package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sitemetrics/sitemetrics/models"
	"github.com/sitemetrics/sitemetrics/models/splunk"
)

// seriesKey names a series within a feed.
type seriesKey struct {
	feed int64
	key  string
}

// identity is a sample's identity: its series and its bucket, the row's time floored
// to the feed's interval, in epoch seconds.
type identity struct {
	series int64
	bucket int64
}

// partKey is one row added to a bucket of an 'add' feed.
type partKey struct {
	identity
	hash string
}

// rollupKey is one hour or day of one generation of an SLO's roll-ups.
type rollupKey struct {
	slo int64
	gen int
	at  int64 // epoch seconds of the hour or UTC day
}

// feedState is a feed's bindings version and sample policy, read under the series locks.
type feedState struct {
	version int64
	policy  string
}

// pendingDelivery is a parsed delivery waiting to be written.
type pendingDelivery struct {
	ctx  context.Context
	d    *models.Delivery
	rows []splunk.Row
	ids  []int64 // each row's series id (tryBatch)
	feed models.Feed
	set  bindingSet
	err  error
}

// snapshot is what the database holds for a batch, read under the series locks.
type snapshot struct {
	feeds   map[int64]feedState
	samples map[identity]models.Fields // stored fields
	parts   map[partKey]bool
	// encode writes fields as samples store them (sample_fields.go).
	encode func(models.Fields) (string, error)
}

// sampleWrite is the final value of one sample after a batch.
type sampleWrite struct {
	identity
	fields string
	k      int // the delivery that wrote it last, its place in the batch
}

// plan is everything a batch writes, decided in Go from the snapshot so that both
// dialects write the same thing.
type plan struct {
	batch   []*pendingDelivery
	samples []sampleWrite
	parts   []partKey
	// onlyNew: planned without reading what is stored (PostgreSQL, tryBatch's guess); the
	// write fails with errGuessedWrong rather than replace a stored sample.
	onlyNew bool
	rollupChange
}

// rollupChange is what a batch changes beyond its samples: its SLOs' hour roll-ups
// (differences, so changes add up in any order; the day roll-ups change by what their
// hours do), its series' data times and its SLOs' versions. SQLite applies it in the
// batch's transaction; PostgreSQL queues it there and folds it in after the commit
// (fold.go). A batch's plan lists its hours in the order it made them, a key more than
// once when two bindings of a series read it; a fold sums changes (rollupSum) into
// hours in key order, each once, which is what apply takes. No map of a delivery's
// thousand hours is built and sorted: a fold sums them anyway.
type rollupChange struct {
	hours []rollupDelta
	last  []seriesBucket // in series order, each series once
	slos  []int64        // SLOs whose data changed, sorted
}

// seriesBucket is a series' newest bucket that did not start after its receipt: its
// data time.
type seriesBucket struct {
	series, bucket int64
}

// days sums the change's hours, in key order and each once, into UTC days: in key
// order too, since an hour's day keeps its order.
func (c *rollupChange) days() []rollupDelta {
	days := make([]rollupDelta, 0, len(c.hours)/2+1)
	for _, h := range c.hours {
		day := rollupKey{h.slo, h.gen, floorTo(h.at, daySeconds)}
		if n := len(days); n > 0 && days[n-1].rollupKey == day {
			days[n-1].Sums = days[n-1].Sums.Add(h.Sums)
			continue
		}
		days = append(days, rollupDelta{day, h.Sums})
	}
	return days
}

const (
	hourSeconds = 3600
	daySeconds  = 86400
)

// floorTo floors epoch seconds to a multiple of step, also before 1970.
func floorTo(sec, step int64) int64 {
	q := sec / step
	if sec%step != 0 && sec < 0 {
		q--
	}
	return q * step
}

// bucketOf is the bucket a row falls in.
func bucketOf(t time.Time, intervalSeconds int) int64 {
	return floorTo(t.Unix(), int64(intervalSeconds))
}

// identities are the samples a batch touches, each once, in order.
func identities(batch []*pendingDelivery) []identity {
	ids := make([]identity, 0, rowsOf(batch))
	for _, p := range batch {
		for j, r := range p.rows {
			ids = append(ids, identity{p.ids[j], bucketOf(r.Time, p.feed.IntervalSeconds)})
		}
	}
	slices.SortFunc(ids, compareIdentity)
	return slices.Compact(ids)
}

// rowParts are the row parts of a batch's deliveries to 'add' feeds, for the snapshot.
func rowParts(batch []*pendingDelivery, feeds map[int64]feedState) []partKey {
	var parts []partKey
	for _, p := range batch {
		if feeds[p.feed.ID].policy != models.PolicyAdd {
			continue
		}
		for j, r := range p.rows {
			id := identity{p.ids[j], bucketOf(r.Time, p.feed.IntervalSeconds)}
			parts = append(parts, partKey{id, string(r.Hash())})
		}
	}
	return parts
}

// planBatch decides, row by row and in arrival order, what each row does to its sample
// (SPEC's sample identity): new (accepted), replacing a different stored value
// (replaced), or equal to it (duplicate); under 'add' a row not added before is summed
// into the bucket. Then it derives every touched sample's old and new SLO points through
// the bindings and keeps the difference per hour, so roll-ups stay exact however
// often a bucket is corrected. ids are the batch's identities (identities): a sample's
// place among them is its place in the plan, so its samples come in identity order
// without a sort or a map.
func planBatch(batch []*pendingDelivery, ids []identity, snap snapshot) (*plan, error) {
	p := &plan{batch: batch}
	touched := make([]touch, len(ids)) // each identity's; a touch without an owner was not written
	written, hint := 0, 0
	parts := maps.Clone(snap.parts)
	for k, pd := range batch {
		d := pd.d
		d.Accepted, d.Replaced, d.Duplicates, d.FromReceipt, d.OutsideWindow = 0, 0, 0, 0, 0
		add := snap.feeds[pd.feed.ID].policy == models.PolicyAdd
		received := d.ReceivedAt.Unix()
		from, to := models.WindowSpan(d.ReceivedAt)
		for j, r := range pd.rows {
			if r.TimeSource == splunk.TimeFromReceived {
				d.FromReceipt++
			}
			if r.Time.Before(from) || r.Time.After(to) {
				d.OutsideWindow++
			}
			id := identity{pd.ids[j], bucketOf(r.Time, pd.feed.IntervalSeconds)}
			i := hint // rows mostly come in identity order: the place after the row before's
			if i >= len(ids) || ids[i] != id {
				var found bool
				if i, found = slices.BinarySearchFunc(ids, id, compareIdentity); !found {
					return nil, fmt.Errorf("sample %d@%d is not among the batch's", id.series, id.bucket)
				}
			}
			hint = i + 1
			t := &touched[i]
			old, exists := snap.samples[id]
			if t.owner != nil {
				old, exists = t.after, true
			}
			var next models.Fields
			switch {
			case add:
				pk := partKey{id, string(r.Hash())}
				if parts[pk] {
					d.Duplicates++
					continue
				}
				if parts == nil {
					parts = map[partKey]bool{}
				}
				parts[pk] = true
				p.parts = append(p.parts, pk)
				next = old.Plus(r.Fields)
				d.Accepted++
			case exists && old.Equal(r.Fields):
				d.Duplicates++
				continue
			default:
				next = r.Fields
				if exists {
					d.Replaced++
				} else {
					d.Accepted++
				}
			}
			js, err := snap.encode(next)
			if err != nil {
				return nil, fmt.Errorf("sample %d@%d: %w", id.series, id.bucket, err)
			}
			if t.owner == nil {
				t.owner, t.key = pd, r.Series
				written++
			}
			t.sampleWrite = sampleWrite{identity: id, fields: js, k: k}
			t.after = next
			t.current = t.current || id.bucket <= received
		}
		d.Settle()
	}
	p.samples = make([]sampleWrite, 0, written)
	p.hours = make([]rollupDelta, 0, written)
	slos := make([]int64, 0, written)
	for i := range touched {
		t := &touched[i]
		if t.owner == nil {
			continue // duplicates only
		}
		p.samples = append(p.samples, t.sampleWrite)
		if t.current && t.bucket > 0 { // buckets of a series in order: its last one is its newest
			if n := len(p.last); n > 0 && p.last[n-1].series == t.series {
				p.last[n-1].bucket = t.bucket
			} else {
				p.last = append(p.last, seriesBucket{t.series, t.bucket})
			}
		}
		before := snap.samples[t.identity]
		for _, b := range t.owner.set.forSeries(t.key) {
			delta := pointOf(b, t.after)
			if before != nil {
				delta = delta.Sub(pointOf(b, before))
			}
			slos = append(slos, b.SLOID)
			if delta == (models.Sums{}) {
				continue
			}
			h := rollupKey{b.SLOID, b.Generation, floorTo(t.bucket, hourSeconds)}
			if n := len(p.hours); n > 0 && p.hours[n-1].rollupKey == h { // a series' buckets of one hour
				p.hours[n-1].Sums = p.hours[n-1].Sums.Add(delta)
				continue
			}
			p.hours = append(p.hours, rollupDelta{h, delta})
		}
	}
	slices.Sort(slos)
	p.slos = slices.Compact(slos)
	return p, nil
}

// rowsOf counts a batch's rows.
func rowsOf(batch []*pendingDelivery) int {
	n := 0
	for _, p := range batch {
		n += len(p.rows)
	}
	return n
}

// touch is a sample a batch writes: its final value, and the first delivery that wrote
// it, whose bindings derive its points, with the series key they know it by; current
// when a row wrote it that was received after its bucket began (the series' data time).
type touch struct {
	sampleWrite
	after   models.Fields
	owner   *pendingDelivery
	key     string
	current bool
}

// pointOf is what one sample adds to an SLO's sums: its bad and total events (or one
// slice), one excluded row when the binding refuses its numbers, or nothing when the
// sample lacks the binding's fields.
func pointOf(b models.Binding, fields models.Fields) models.Sums {
	if err := b.Check(fields); err != nil {
		return models.Sums{Excluded: 1}
	}
	good, total, ok := b.Derive(fields)
	if !ok {
		return models.Sums{}
	}
	return models.Sums{Bad: total - good, Total: total}
}

func compareIdentity(a, b identity) int {
	if a.series != b.series {
		return cmpInt(a.series, b.series)
	}
	return cmpInt(a.bucket, b.bucket)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// rollupDelta is what a change adds to one roll-up row.
type rollupDelta struct {
	rollupKey
	models.Sums
}

// sortedRollups returns roll-up deltas in key order, so concurrent writers touch rows
// in one order.
func sortedRollups(m map[rollupKey]models.Sums) []rollupDelta {
	out := make([]rollupDelta, 0, len(m))
	for k, d := range m {
		out = append(out, rollupDelta{k, d})
	}
	slices.SortFunc(out, func(a, b rollupDelta) int {
		if a.slo != b.slo {
			return cmpInt(a.slo, b.slo)
		}
		if a.gen != b.gen {
			return a.gen - b.gen
		}
		return cmpInt(a.at, b.at)
	})
	return out
}

// sortedKeys is a map's keys in order.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
