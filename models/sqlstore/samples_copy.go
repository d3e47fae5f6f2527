package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// copySamples is the statement copyNewSamples sends its rows to. The column types
// are the migrations': series_id, bucket and delivery_id are bigint, fields is text.
const copySamples = "COPY samples (series_id, bucket, fields, delivery_id) FROM STDIN (FORMAT binary)"

// copyNewSamples writes samples guessed to be new (plan.onlyNew) with COPY, on the
// connection of the batch's transaction: a sample stored already breaks the primary key
// and fails the COPY, which means the guess was wrong (errGuessedWrong). COPY costs
// PostgreSQL about two thirds of an INSERT of the same rows from arrays.
//
// The rows are laid out in COPY's binary format here (appendSamplesCopy) and handed to
// pgconn, instead of going through pgx.CopyFrom, which looks up an encoder for each of
// a row's four values, grows a new buffer for every COPY and passes it through a pipe
// to a goroutine: 6 % of the app's CPU and a seventh of what it allocated while
// bench-scale ingested (its PPROF profiles, docs/benchmarks/ingest-vs-copy.md).
func copyNewSamples(ctx context.Context, conn *sql.Conn, p *plan) error {
	buf := copyBuffers.Get().(*[]byte)
	defer putCopyBuffer(buf)
	*buf = appendSamplesCopy((*buf)[:0], p)
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the database connection is a %T, not pgx's", dc)
		}
		_, err := c.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(*buf), copySamples)
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return errGuessedWrong
	}
	if err != nil {
		return fmt.Errorf("store samples: %w", err)
	}
	return nil
}

// appendSamplesCopy appends the plan's samples in COPY's binary format: a header, then
// per row its number of columns and each column's length and bytes (big-endian
// integers, text as it is), then -1 where the next row's count would be.
func appendSamplesCopy(b []byte, p *plan) []byte {
	b = append(b, "PGCOPY\n\xff\r\n\x00"...)
	b = binary.BigEndian.AppendUint32(b, 0) // flags: no OIDs
	b = binary.BigEndian.AppendUint32(b, 0) // no header extension
	for _, w := range p.samples {
		b = binary.BigEndian.AppendUint16(b, 4)
		b = appendBigint(b, w.series)
		b = appendBigint(b, w.bucket)
		b = binary.BigEndian.AppendUint32(b, uint32(len(w.fields)))
		b = append(b, w.fields...)
		b = appendBigint(b, p.batch[w.k].d.ID)
	}
	return binary.BigEndian.AppendUint16(b, 0xffff)
}

// appendBigint appends a bigint column: its length, 8, and its value.
func appendBigint(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

// copyBuffers keeps COPY's buffers between batches; one grown past maxCopyBuffer by
// an unusually large batch is let go rather than kept.
var copyBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxCopyBuffer = 4 << 20

func putCopyBuffer(b *[]byte) {
	if cap(*b) <= maxCopyBuffer {
		copyBuffers.Put(b)
	}
}
