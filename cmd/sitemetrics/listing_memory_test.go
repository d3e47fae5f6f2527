package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// The worst listing of the delivery log, 100 deliveries whose bodies are each near
// the 1 MiB ingest limit, read by several clients at once beside single bodies,
// keeps the app's resident memory far below what carrying the bodies would take
// (100 MiB per listing and client, before encoding): listings leave bodies out, a
// limit over 100 gives at most 100, and bodies are read one at a time (SPEC §9,
// Bounded). The app is a child process, so that its memory is its own.
func TestListingDeliveriesMemory(t *testing.T) {
	env := testEnv(t, "postgres")
	hook := newFeed(t, env, "--name", "web", "--series-field", "service")
	sre := newAPIToken(t, env, "sre")
	p := startServe(t, binary(t), env)
	memory := func(when string) (rss, peak int64) {
		t.Helper()
		rss, peak, err := p.memory()
		must(t, err)
		t.Logf("RSS %s: VmRSS %s, VmHWM %s", when, mib(rss), mib(peak))
		return rss, peak
	}
	memory("at start")

	const deliveries = 100
	pad := strings.Repeat("x", 1000*1000) // with the row, 1,000,1xx bytes of the 1 MiB limit
	base := time.Now().Add(-24 * time.Hour).Truncate(5 * time.Minute).Unix()
	for i := range deliveries {
		body := fmt.Sprintf(`{"result":{"service":"checkout","_time":"%d","total":"100","good":"99","message":%q}}`, base+int64(i)*300, pad)
		r := do(t, "POST", hook, []byte(body))
		mustf(t, r.Status == 200, "delivery %d of %d bytes: %d %s", i, len(body), r.Status, r.Body)
	}
	memory("after storing 100 deliveries of ~1 MiB")

	// Count the peak from here: writing 5 to clear_refs resets VmHWM to VmRSS.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Logf("VmHWM not reset (%v): the peak below includes storing the deliveries", err)
	}
	before, _ := memory("before the listings")

	type listing struct {
		Deliveries []map[string]any `json:"deliveries"`
		Next       string           `json:"next"`
	}
	list := func(limit int) (listing, int) {
		r := do(t, "GET", fmt.Sprintf("%s/api/v1/feeds/1/deliveries?limit=%d", p.URL, limit), nil, "Authorization", "Bearer "+sre)
		mustf(t, r.Status == 200, "listing with limit=%d: %d %s", limit, r.Status, r.Body)
		var l listing
		r.json(t, &l)
		return l, len(r.Body)
	}
	first, size := list(100)
	mustf(t, len(first.Deliveries) == deliveries, "limit=100 listed %d deliveries", len(first.Deliveries))
	mustf(t, size < 256<<10, "a listing of 100 deliveries is %d bytes", size)
	for _, d := range first.Deliveries {
		_, body := d["body"]
		_, body64 := d["body_base64"]
		mustf(t, !body && !body64 && d["body_url"] != "", "a listing carries a body or no body_url: %v", d["id"])
	}
	// Over the cap, the answer is clamped to it and says where the rest is.
	over, _ := list(500)
	mustf(t, len(over.Deliveries) > 0 && len(over.Deliveries) <= 100, "limit=500 listed %d deliveries", len(over.Deliveries))
	mustf(t, len(over.Deliveries) == deliveries || over.Next != "",
		"limit=500 listed %d of %d deliveries and no next page", len(over.Deliveries), deliveries)

	const listers, bodyReaders, perClient = 8, 2, 100
	var wg sync.WaitGroup
	for c := range listers + bodyReaders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				if c < listers {
					limit := []int{100, 500}[i%2]
					r := do(t, "GET", fmt.Sprintf("%s/api/v1/feeds/1/deliveries?limit=%d", p.URL, limit), nil, "Authorization", "Bearer "+sre)
					if r.Status != 200 {
						t.Errorf("listing with limit=%d: %d", limit, r.Status)
						return
					}
					continue
				}
				url := first.Deliveries[i%deliveries]["body_url"].(string)
				r := do(t, "GET", p.URL+url, nil, "Authorization", "Bearer "+sre)
				var one struct {
					Body string `json:"body"`
				}
				if r.Status != 200 || json.Unmarshal(r.Body, &one) != nil || !strings.Contains(one.Body, pad) {
					t.Errorf("body %s: %d, %d bytes", url, r.Status, len(r.Body))
					return
				}
			}
		}()
	}
	wg.Wait()
	after, peak := memory(fmt.Sprintf("after %d listings (limit=100 and 500) by %d clients and %d single bodies by %d",
		listers*perClient, listers, bodyReaders*perClient, bodyReaders))
	t.Logf("RSS listing figures: before %s, after %s, peak %s", mib(before), mib(after), mib(peak))
	mustf(t, peak < 256<<20, "the app's resident memory peaked at %s reading listings", mib(peak))
}
