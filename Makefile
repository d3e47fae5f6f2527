# Sitemetrics. `make test` is the one test command (CI runs exactly it).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 20s

.PHONY: build demo test test-go generate screenshots parity bench-ingest bench-status bench-pages bench-notify

## build: the binary, with its version from git, in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/sitemetrics ./cmd/sitemetrics

## demo: run the app with demo data and a simulated Splunk
demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/sitemetrics serve --demo

## test: every test, on SQLite and PostgreSQL, against a real slapd and Chromium
## (installs what is missing with apt-get when run as root)
test:
	./.ci/with-services $(MAKE) --no-print-directory test-go

# test-go expects the services started by .ci/with-services.
test-go:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	@before=$$(cat $$(git ls-files -co --exclude-standard '*_templ.go') /dev/null | sha256sum); \
	  $(GO) tool templ generate >/dev/null 2>&1; \
	  after=$$(cat $$(git ls-files -co --exclude-standard '*_templ.go') /dev/null | sha256sum); \
	  test "$$before" = "$$after" || { echo "generated templ code was stale: run make generate and commit"; exit 1; }
	$(GO) test -count=1 -p 1 -timeout 15m ./...
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./models/splunk

## generate: regenerate templ components
generate:
	$(GO) tool templ generate

## screenshots: every page at 1280 and 390 px, with the demo's data, into docs/screenshots
## (the browser suite's page checks, saving what it looks at)
screenshots:
	rm -f docs/screenshots/*.png
	SITEMETRICS_TEST_SCREENSHOTS=$(CURDIR)/docs/screenshots ./.ci/with-services $(GO) test -count=1 -run '^TestBrowserPages$$' ./cmd/sitemetrics

## parity: our SLI, budget and burn rates beside a real Prometheus evaluating Sloth's and
## Pyrra's PromQL on the same 30 days of data, with the figures logged (make test runs it too)
parity:
	./.ci/with-services $(GO) test -count=1 -run '^TestPeerParity$$' -v ./cmd/sitemetrics

## bench-ingest: webhook throughput and latency beside raw INSERT and COPY on PostgreSQL
bench-ingest:
	./.ci/with-services $(GO) test -run '^$$' -bench Ingest -benchtime 4000x ./cmd/sitemetrics

## bench-status: status and budget of 100 SLOs over 30 days of 5-minute samples, on PostgreSQL
bench-status:
	./.ci/with-services $(GO) test -run '^$$' -bench Status100SLOs -benchtime 10x ./models/sqlstore

## bench-pages: overview and detail pages, 32 clients, 100 SLOs over 30 days, on PostgreSQL
bench-pages:
	./.ci/with-services $(GO) test -run '^$$' -bench Pages -benchtime 2000x ./cmd/sitemetrics

## bench-notify: notifications on PostgreSQL: delivery that crosses a tier → receiver's POST
## (p50/p99), how fast the sender drains the outbox, messages in a 30-minute flapping run
bench-notify:
	./.ci/with-services $(GO) test -count=1 -run '^TestFlappingRun$$' -v ./notify 2>&1 | grep -E 'figure|^(ok|FAIL|---)'
	./.ci/with-services $(GO) test -run '^$$' -bench CrossingToPOST -benchtime 60x ./notify
	./.ci/with-services $(GO) test -run '^$$' -bench SenderDrain -benchtime 2000x ./notify
