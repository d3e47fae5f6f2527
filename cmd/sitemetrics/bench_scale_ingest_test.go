package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sitemetrics/sitemetrics/models/dbtest"
)

// historyRounds is how many rounds (at most one a day of history) the history is
// posted in when it is compared with COPY.
const historyRounds = 5

// phase is what one timed stretch of writes did: its rows, its requests' latencies
// (spans of several stretches laid end to end), the CPU time and the WAL it cost, and
// the tables PostgreSQL vacuumed or analyzed meanwhile.
type phase struct {
	rows     int64
	lat      *latencies
	cpu      cpuUse
	wal      int64
	vacuumed []string
}

func (p phase) rate() float64 { return float64(p.rows) / p.lat.end.Sub(p.lat.start).Seconds() }

// add sums q into p.
func (p *phase) add(q phase) {
	if p.lat == nil {
		p.lat = &latencies{start: q.lat.start, end: q.lat.start}
	}
	p.lat.merge(q.lat)
	p.rows += q.rows
	p.cpu.app, p.cpu.pg, p.cpu.load = p.cpu.app+q.cpu.app, p.cpu.pg+q.cpu.pg, p.cpu.load+q.cpu.load
	p.wal += q.wal
}

// measure runs f, timing the batches it sends through inBatches, and returns the
// phase's figures.
func (r *scaleRun) measure(rows int64, f func() *latencies) phase {
	cpuBefore, walBefore := r.cpu(), r.walNow()
	vacuumed := r.watchVacuum()
	lat := f()
	after := r.cpu()
	return phase{rows: rows, lat: lat, wal: r.walSince(walBefore), vacuumed: vacuumed(),
		cpu: cpuUse{app: after.app - cpuBefore.app, pg: after.pg - cpuBefore.pg, load: after.load - cpuBefore.load}}
}

// watchVacuum looks every 200 ms for the tables PostgreSQL is vacuuming or analyzing
// (autovacuum's work, whichever writes set it off: with autovacuum's default minute
// between rounds, a COPY's table can be vacuumed during the next round of ingest and
// the app's tables during a COPY) until the returned function is called, which gives
// their names. A TOAST table is named by its table.
func (r *scaleRun) watchVacuum() func() []string {
	seen := map[string]bool{}
	var failed error // the last poll's error while no poll has answered
	answered := false
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			rows, err := r.db.QueryContext(ctx, `SELECT coalesce(o.relname || ' (TOAST)', c.relname) FROM
				(SELECT relid FROM pg_stat_progress_vacuum UNION SELECT relid FROM pg_stat_progress_analyze) p
				JOIN pg_class c ON c.oid = p.relid LEFT JOIN pg_class o ON o.reltoastrelid = c.oid`)
			if err == nil {
				for rows.Next() {
					var name string
					if rows.Scan(&name) == nil {
						seen[name] = true
					}
				}
				err = rows.Err()
				rows.Close()
			}
			cancel()
			answered = answered || err == nil
			if !answered {
				failed = err
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() []string {
		close(stop)
		<-done
		if !answered {
			return []string{fmt.Sprintf("not known (%v)", failed)}
		}
		return slices.Sorted(maps.Keys(seen))
	}
}

// historyIndex is where row idx of the history is: series idx%N, bucket idx/N.
func (r *scaleRun) historyIndex(idx int64) (series int, bucket int64) {
	n := int64(r.cfg.slos)
	return int(idx % n), r.first + idx/n*300
}

// ingestHistory posts DAYS of buckets ending at the current one, oldest first, all
// series of a bucket together, in 1,000-row deliveries over 4 senders. With
// withCopy it posts them in rounds of whole buckets (historyRounds, at most one a
// day), and after each round, once the app has computed every summary and
// PostgreSQL is quiet, COPYs the same rows into a table with the samples table's
// columns, indexes and partitions, from as many connections in batches of the same
// size; each round of ingest also waits for PostgreSQL to be quiet first: ingest and its baseline alternate within seconds, so a slow spell of this
// shared machine weighs on both alike. The ratio is reported for the whole history
// and for each round.
func (r *scaleRun) ingestHistory(withCopy bool) {
	n := int64(r.cfg.slos)
	r.end = time.Now().Unix() / 300 * 300
	buckets := int64(r.cfg.days * 288)
	r.first = r.end - (buckets-1)*300
	r.rows = buckets * n
	rounds := int64(1)
	if withCopy {
		rounds = min(int64(r.cfg.days), historyRounds)
	}
	r.say("ingest: %d rows (%d buckets × %d series) in %d-row deliveries over %d senders, in %d round(s)", r.rows, buckets, n, r.cfg.batch, r.cfg.senders, rounds)
	var base *copyBaseline
	if withCopy {
		base = r.newCopyBaseline()
		defer r.db.Exec("DROP TABLE bench_copy")
	}
	profiled := r.profile("ingest", 20*time.Second)
	stmts := r.statements()
	var in, out phase
	var ratios []string
	for k := range rounds {
		lo, hi := buckets*k/rounds*n, buckets*(k+1)/rounds*n
		if withCopy {
			left := "COPY"
			if k == 0 {
				left = "the set-up"
			}
			r.quiet("ingest", left)
		}
		p := r.measure(hi-lo, func() *latencies { return r.postHistory(lo, hi) })
		if p.lat.errs > 0 {
			r.b.Fatalf("ingest: %s\n%s", p.lat, r.app.tail())
		}
		in.add(p)
		if !withCopy {
			continue
		}
		if k == 0 {
			base.identify()
		}
		r.awaitSummaries(5*time.Minute + time.Duration(r.cfg.slos)*50*time.Millisecond)
		r.quiet("COPY", "ingest")
		c := r.measure(hi-lo, func() *latencies { return base.copy(lo, hi) })
		if c.lat.errs > 0 {
			r.b.Fatalf("COPY: %s", c.lat)
		}
		out.add(c)
		ratios = append(ratios, fmt.Sprintf("%.2f", p.rate()/c.rate()))
		r.say("round %d of %d: ingest %.0f rows/s, COPY %.0f rows/s: %s; vacuumed during ingest: %s; during COPY: %s", k+1, rounds,
			p.rate(), c.rate(), ratios[k], listOrNone(p.vacuumed), listOrNone(c.vacuumed))
	}
	profiled()
	stmts.report()
	r.b.ReportMetric(in.rate(), "ingest_rows/s")
	r.record("ingest through the webhook", fmt.Sprintf("%.0f rows/s (%d rows in %s); per %d-row delivery %s",
		in.rate(), in.rows, ms(in.lat.end.Sub(in.lat.start)), r.cfg.batch, in.lat), "", nil)
	r.record("CPU spent ingesting", cpuPer(cpuUse{}, in.cpu, in.rows, true), "", nil)
	if !withCopy {
		return
	}
	r.record(fmt.Sprintf("COPY of the same rows (%d connections, %d rows a COPY)", r.cfg.senders, r.cfg.batch),
		fmt.Sprintf("%.0f rows/s (%s); per COPY %s", out.rate(), ms(out.lat.end.Sub(out.lat.start)), out.lat), "", nil)
	r.record("CPU spent on COPY", cpuPer(cpuUse{}, out.cpu, out.rows, true), "", nil)
	ratio := in.rate() / out.rate()
	r.record("ingest ÷ COPY", fmt.Sprintf("%.2f (rounds %s)", ratio, strings.Join(ratios, ", ")), "≥ 0.5", verdict(ratio >= 0.5))
	perRows := func(b int64) float64 { return float64(b) / 1024 * 1000 / float64(r.rows) }
	r.record("WAL written per 1,000 rows", fmt.Sprintf("ingesting %.0f KiB, COPY %.0f KiB", perRows(in.wal), perRows(out.wal)), "", nil)
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// postHistory posts history rows lo..hi-1 in 1,000-row deliveries over the senders.
func (r *scaleRun) postHistory(lo, hi int64) *latencies {
	batches := (hi - lo + int64(r.cfg.batch) - 1) / int64(r.cfg.batch)
	lat, _ := r.inBatches(batches, func(j int64) error {
		rows := make([]string, 0, r.cfg.batch)
		for idx := lo + j*int64(r.cfg.batch); idx < min(hi, lo+(j+1)*int64(r.cfg.batch)); idx++ {
			rows = append(rows, historyRow(r.historyIndex(idx)))
		}
		return r.send.post(r.app.URL, rows)
	})
	return lat
}

// copyBaseline is the table COPY writes the history's rows into, and the numbers
// the app gave the series and fields, with which COPY writes them as the app
// stores them.
type copyBaseline struct {
	r        *scaleRun
	series   []int64
	fieldIDs map[string]int64
}

// newCopyBaseline makes bench_copy, with the samples table's columns, indexes and
// partitions.
func (r *scaleRun) newCopyBaseline() *copyBaseline {
	if err := dbtest.MirrorTable(context.Background(), r.db, "samples", "bench_copy"); err != nil {
		r.b.Fatal(err)
	}
	return &copyBaseline{r: r}
}

// identify reads the numbers the app gave the series and fields (once the first
// round is in) and checks that COPY writes the rows as the app stored them.
func (c *copyBaseline) identify() {
	r := c.r
	ids := map[string]int64{}
	rows, err := r.db.Query("SELECT key, id FROM series")
	if err != nil {
		r.b.Fatal(err)
	}
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			r.b.Fatal(err)
		}
		ids[k] = id
	}
	rows.Close()
	c.fieldIDs = map[string]int64{}
	for _, name := range []string{"good", "total"} {
		var id int64
		if err := r.db.QueryRow("SELECT id FROM field_names WHERE name = $1", name).Scan(&id); err != nil {
			r.b.Fatalf("field %s's number: %v", name, err)
		}
		c.fieldIDs[name] = id
	}
	c.series = make([]int64, r.cfg.slos)
	for i := range c.series {
		c.series[i] = ids[seriesKey(i)]
	}
	var stored string
	want := storedFields(0, r.first, c.fieldIDs)
	if err := r.db.QueryRow("SELECT fields FROM samples WHERE series_id = $1 AND bucket = $2", c.series[0], r.first).Scan(&stored); err != nil || stored != want {
		r.b.Fatalf("the app stored %q (%v) where COPY would write %q", stored, err, want)
	}
}

// copy COPYs history rows lo..hi-1 as the app stores them, in batches of the
// deliveries' size over as many connections as there are senders.
func (c *copyBaseline) copy(lo, hi int64) *latencies {
	r := c.r
	batches := (hi - lo + int64(r.cfg.batch) - 1) / int64(r.cfg.batch)
	lat, _ := r.inBatches(batches, func(j int64) error {
		var src [][]any
		for idx := lo + j*int64(r.cfg.batch); idx < min(hi, lo+(j+1)*int64(r.cfg.batch)); idx++ {
			i, t := r.historyIndex(idx)
			src = append(src, []any{c.series[i], t, storedFields(i, t, c.fieldIDs), lo/int64(r.cfg.batch) + j + 1})
		}
		_, err := r.pool.CopyFrom(context.Background(), pgx.Identifier{"bench_copy"}, []string{"series_id", "bucket", "fields", "delivery_id"}, pgx.CopyFromRows(src))
		return err
	})
	return lat
}
