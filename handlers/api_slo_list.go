package handlers

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/singleflight"

	"github.com/sitemetrics/sitemetrics/models"
)

func (h *Handler) listSLOsAPI(c *gin.Context) {
	reports, err := h.store.Reports(c.Request.Context(), h.now())
	if err != nil {
		h.fail(c, err)
		return
	}
	list, err := h.sloList.get(reports)
	if err != nil {
		h.fail(c, err)
		return
	}
	const ct = "application/json; charset=utf-8"
	if acceptsGzip(c.Request) {
		c.Header("Content-Encoding", "gzip") // compressed once for every reader: passed through as it is
		c.Data(http.StatusOK, ct, list.gz)
		return
	}
	c.Data(http.StatusOK, ct, list.body)
}

// encodedList is the list of SLOs as the API returns it, kept, with its gzip, while
// every SLO's numbers are the same: between two summaries every reader gets the same
// bytes, compressed once. Each SLO's object is kept by its numbers too, so when a few
// SLOs change (a delivery each second) only theirs are encoded again; readers arriving
// while new numbers are encoded wait for that one encoding.
type encodedList struct {
	mu     sync.Mutex
	key    [32]byte
	last   *sloList
	items  map[int64]encodedSLO
	flight singleflight.Group
}

// sloList is one encoding of the list: its JSON and that JSON gzipped.
type sloList struct {
	body, gz []byte
}

// encodedSLO is one SLO's JSON object and the numbers it shows.
type encodedSLO struct {
	numbers sloNumbers
	json    []byte
}

// sloNumbers identifies what an SLO's object shows (the terms of numbersKey).
type sloNumbers struct {
	version, at int64
	loaded      uint64
}

func numbersOf(r models.SLOReport) sloNumbers {
	return sloNumbers{version: r.Version, at: r.At.UnixNano(), loaded: r.Loaded}
}

func (e *encodedList) get(reports []models.SLOReport) (*sloList, error) {
	key := numbersKey(reports)
	e.mu.Lock()
	if e.last != nil && e.key == key {
		defer e.mu.Unlock()
		return e.last, nil
	}
	e.mu.Unlock()
	v, err, _ := e.flight.Do(hex.EncodeToString(key[:]), func() (any, error) { return e.encode(key, reports) })
	if err != nil {
		return nil, err
	}
	return v.(*sloList), nil
}

func (e *encodedList) encode(key [32]byte, reports []models.SLOReport) (*sloList, error) {
	e.mu.Lock()
	old := e.items
	e.mu.Unlock()
	items := make(map[int64]encodedSLO, len(reports))
	size := len(`{"slos":[]}`) + len(reports)
	for _, r := range reports {
		item, ok := old[r.ID]
		if !ok || item.numbers != numbersOf(r) {
			j, err := json.Marshal(toSLOJSON(r))
			if err != nil {
				return nil, err
			}
			item = encodedSLO{numbers: numbersOf(r), json: j}
		}
		items[r.ID] = item
		size += len(item.json)
	}
	// The list is kept until the next change: sized once, it holds no room to grow
	// (a buffer grown by doubling held up to a third more than its JSON).
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString(`{"slos":[`)
	for i, r := range reports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(items[r.ID].json)
	}
	b.WriteString("]}")
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed) // new numbers each second while data arrives
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	list := &sloList{body: b.Bytes(), gz: gz.Bytes()}
	e.mu.Lock()
	e.key, e.last, e.items = key, list, items
	e.mu.Unlock()
	return list, nil
}

// acceptsGzip says whether a request takes a gzip answer: gzip listed in
// Accept-Encoding by name without q=0 (RFC 9110 §12.5.3), and not a HEAD (as gzhttp).
func acceptsGzip(r *http.Request) bool {
	if r.Method == http.MethodHead {
		return false
	}
	for _, coding := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(coding, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
