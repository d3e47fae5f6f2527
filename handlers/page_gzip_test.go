package handlers

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
)

// A spliced answer is one gzip member that the standard library's reader, which
// checks the CRC-32 and the length, reads back as head + shared + foot, whatever the
// parts hold (repeats across parts included, which a compressor of the whole would
// refer back to).
func TestSplicedGzipReadsBackWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) string {
		words := []string{"<tr>", "<td class=\"budget\">", "99.95 %", "checkout", "</td>", "\n", "é", "\x00", "breached"}
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.String()
	}
	for i, c := range []struct{ head, shared, foot string }{
		{"", "", ""},
		{"<html>", "", "</html>"},
		{text(3000), text(300_000), text(2000)},
		{text(40_000), text(70_000), text(40_000)}, // longer than deflate's 32 KiB window
		{"same same same", "same same same", "same same same"},
	} {
		shared, err := newSharedHTML(c.shared)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second time with pooled compressors
			body, err := splice(c.head, shared, c.foot)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			zr.Multistream(false)
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if want := c.head + c.shared + c.foot; string(got) != want {
				t.Fatalf("case %d: read back %d bytes, want %d", i, len(got), len(want))
			}
		}
	}
}

// The CRC-32 of a+b from the parts' CRCs is the CRC-32 of a+b, for lengths of b across
// the bits of the length (0, 1, odd, powers of two, a page's).
func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 400_000)
	for i := range buf {
		buf[i] = byte(rng.IntN(256))
	}
	for _, la := range []int{0, 1, 7, 1000} {
		for _, lb := range []int{0, 1, 2, 3, 31, 64, 1023, 4096, 65537, 300_000, 399_000} {
			if la+lb > len(buf) {
				continue
			}
			a, b := buf[:la], buf[la:la+lb]
			if got, want := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), lb), crc32.ChecksumIEEE(buf[:la+lb]); got != want {
				t.Errorf("len(a) %d, len(b) %d: combined %08x, want %08x", la, lb, got, want)
			}
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"":                         false,
		"gzip":                     true,
		"gzip, deflate, br, zstd":  true,
		"br;q=1.0, gzip;q=0.5":     true,
		"GZIP":                     true,
		"gzip;q=0":                 false,
		"gzip; q=0.000, identity":  false,
		"identity, *;q=0":          false,
		"x-gzip":                   false,
		"deflate;q=1, gzip ;q=0.1": true,
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", ae)
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: acceptsGzip %v, want %v", ae, got, want)
		}
	}
	head, _ := http.NewRequest(http.MethodHead, "/", nil)
	head.Header.Set("Accept-Encoding", "gzip")
	if acceptsGzip(head) {
		t.Error("a HEAD is answered uncompressed")
	}
}
