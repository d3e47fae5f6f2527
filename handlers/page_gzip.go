package handlers

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/flate"
)

// sharedHTML is a part of a page drawn once and shown to many (the overview's
// content), with its deflate stream: compressed once, it is spliced into each
// reader's gzip answer between their own page's head and foot.
type sharedHTML struct {
	html    string
	crc     uint32 // html's CRC-32, combined into each answer's
	deflate []byte // html compressed alone, ending in a sync flush (no final block)
}

func newSharedHTML(html string) (*sharedHTML, error) {
	raw := []byte(html)
	// Overviews deflate to less than a quarter: room enough, not a buffer grown by doubling.
	var out bytes.Buffer
	out.Grow(len(raw) / 4)
	zw, err := flate.NewWriter(&out, flate.BestSpeed) // new numbers each second while data arrives
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Flush(); err != nil {
		return nil, err
	}
	return &sharedHTML{html: html, crc: crc32.ChecksumIEEE(raw), deflate: out.Bytes()}, nil
}

// deflated appends b compressed with a compressor of its own, so that the stream
// refers to nothing before it: ended by a sync flush it can be followed by another
// such stream, by Close (last) it ends one (RFC 1951 §3.2.3: a block refers back only
// by distance, and a sync flush ends on a byte boundary). A page's own parts are a few
// KiB: compressed at the fastest level, by pooled compressors.
func deflated(out *bytes.Buffer, b string, last bool) error {
	zw, _ := fastFlate.Get().(*flate.Writer)
	if zw == nil {
		var err error
		if zw, err = flate.NewWriter(out, flate.BestSpeed); err != nil {
			return err
		}
	} else {
		zw.Reset(out)
	}
	defer fastFlate.Put(zw)
	if _, err := io.WriteString(zw, b); err != nil {
		return err
	}
	if last {
		return zw.Close()
	}
	return zw.Flush()
}

var fastFlate sync.Pool

// contentMark stands for the shared part while a page around it is drawn.
const contentMark = "\x00sitemetrics-shared-content\x00"

// renderShared answers page, drawn around shared: in gzip when the reader takes it,
// with only the page's own head and foot compressed for this request (RFC 1952: one
// member whose deflate stream is the head's, the shared part's and the foot's, and
// whose CRC-32 and length are the whole page's). Otherwise, or when the page cannot
// be drawn so, as render does.
func (h *Handler) renderShared(c *gin.Context, status int, page func(templ.Component) templ.Component, shared *sharedHTML) {
	if body, ok := splicedPage(c, page, shared); ok {
		c.Header("Cache-Control", "no-store")
		c.Header("Content-Encoding", "gzip") // passed through by compressed as it is
		c.Data(status, "text/html; charset=utf-8", body)
		return
	}
	h.render(c, status, page(templ.Raw(shared.html))) // a page that failed to draw is reported there
}

// splicedPage is the page's gzip answer, when the reader takes gzip and the page draws.
func splicedPage(c *gin.Context, page func(templ.Component) templ.Component, shared *sharedHTML) ([]byte, bool) {
	if !acceptsGzip(c.Request) {
		return nil, false
	}
	var b strings.Builder
	if err := page(templ.Raw(contentMark)).Render(c.Request.Context(), &b); err != nil {
		return nil, false
	}
	head, foot, ok := strings.Cut(b.String(), contentMark)
	if !ok {
		return nil, false
	}
	body, err := splice(head, shared, foot)
	return body, err == nil
}

// splice is the gzip member of head + shared + foot.
func splice(head string, shared *sharedHTML, foot string) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(shared.deflate) + (len(head)+len(foot))/2 + 64)
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}) // deflate, no flags, no time, unknown OS
	if err := deflated(&out, head, false); err != nil {
		return nil, err
	}
	out.Write(shared.deflate)
	if err := deflated(&out, foot, true); err != nil {
		return nil, err
	}
	crc := crc32Combine(crc32Combine(crc32.ChecksumIEEE([]byte(head)), shared.crc, len(shared.html)), crc32.ChecksumIEEE([]byte(foot)), len(foot))
	b := binary.LittleEndian.AppendUint32(out.Bytes(), crc)
	return binary.LittleEndian.AppendUint32(b, uint32(len(head)+len(shared.html)+len(foot))), nil
}

// crc32Combine is the CRC-32 (IEEE) of a+b from crcA, crcB and b's length, without
// reading either again: a's CRC is carried through len(b) zero bytes, multiplying by
// x^(8·len) in GF(2) with matrices squared for each bit of the length, then b's CRC is
// added (Mark Adler's crc32_combine in zlib; hash/crc32 has no such function). It
// spares each overview answer reading the shared content again.
func crc32Combine(crcA, crcB uint32, lenB int) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32
	odd[0] = crc32.IEEE // the operator for one zero bit
	for n, row := 1, uint32(1); n < 32; n, row = n+1, row<<1 {
		odd[n] = row
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four
	for {
		gf2Square(&even, &odd) // then one zero byte, two, four, …
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}
