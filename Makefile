# Sitemetrics. `make test` is the one test command (CI runs exactly it).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# A count, not a duration: go1.26's fuzz coordinator can fail a clean run with "context
# deadline exceeded" when a duration ends mid-execution (golang/go#75804, fixed in go1.27).
FUZZTIME ?= 100000x
# Packages with goroutines of their own (group commit, spool replay, the
# breaker, probe and re-validation, per-replica caches, the notifier's
# evaluator and sender) run under the race detector; the rest without, which
# keeps `make test` within a few minutes.
RACE_PKGS := ./models/sqlstore ./models/spool ./ldapauth ./handlers ./notify
# ldapauth's timing tests skip under -race (it slows argon2id several times
# and unevenly); they run once more without it.
TIMING_TESTS := PayAHash|TakeTheFailureTime

.PHONY: build demo test test-go generate screenshots parity bench-ingest bench-replay bench-status bench-pages bench-feeds bench-scale bench-fresh bench-notify

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
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy (the diff above): run go mod tidy and commit"; exit 1; }
	$(GO) test -count=1 -p 1 -timeout 15m $$($(GO) list ./... | grep -v -x -F $(foreach p,$(RACE_PKGS),-e github.com/sitemetrics/sitemetrics/$(patsubst ./%,%,$(p))))
	$(GO) test -race -count=1 -p 1 -timeout 15m $(RACE_PKGS)
	$(GO) test -count=1 -run '$(TIMING_TESTS)' ./ldapauth
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -timeout 5m ./models/splunk
	$(GO) test -run '^$$' -fuzz '^FuzzParseStream$$' -fuzztime $(FUZZTIME) -timeout 5m ./models/splunk
	$(GO) test -run '^$$' -fuzz FuzzDecodeFirst -fuzztime $(FUZZTIME) -timeout 5m ./models/splunk
	$(GO) test -run '^$$' -fuzz FuzzDecodeQueued -fuzztime $(FUZZTIME) -timeout 5m ./models/sqlstore

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

# Benchmarks. Each starts its own PostgreSQL through .ci/with-services, which sets
# SITEMETRICS_TEST_REQUIRE: a benchmark whose database is missing fails, it never skips.
# SAVE=1 also writes what a target prints to docs/benchmarks/<target>.txt (bench-scale:
# bench-scale-N.txt), headed by the command, the commit and the date.
BENCHES = bench-ingest bench-replay bench-status bench-pages bench-feeds bench-scale bench-fresh bench-notify
$(BENCHES): SHELL := /bin/bash
$(BENCHES): .SHELLFLAGS := -o pipefail -c
# None reads from a streaming replica, so none starts one: its replay of the primary's WAL
# would run on the same cores (7.8 % of the machine while bench-scale ingested: README, Benchmarks).
$(BENCHES): export SITEMETRICS_NO_REPLICA := 1
bench-head = echo "\$$ make $@ $(strip $(1))   \# $$(git describe --always --dirty), $$(date -u +%FT%TZ), $$(nproc) CPUs"
bench-out = 2>&1 | tee $(if $(filter 1,$(SAVE)),docs/benchmarks/$(1).txt,/dev/null)

## bench-ingest: webhook deliveries/s and p50/p95/p99 at 8 and 32 senders beside raw INSERTs
## from a pool of as many connections; 1,000-row batches beside COPY, one connection each
bench-ingest:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -run '^$$' -bench 'Ingest/(http-single|raw-insert)' -benchtime 4000x -timeout 30m ./cmd/sitemetrics && \
	  ./.ci/with-services $(GO) test -run '^$$' -bench 'Ingest/(http-batch|copy)' -benchtime 300x -timeout 30m ./cmd/sitemetrics; } $(call bench-out,$@)

## bench-replay: spooled deliveries drained into PostgreSQL per second after an outage
bench-replay:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -run '^$$' -bench SpoolReplay -benchtime 5000x ./models/sqlstore; } $(call bench-out,$@)

## bench-status: status and budget of 100 SLOs over 30 days of 5-minute samples, on PostgreSQL
bench-status:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -run '^$$' -bench Status100SLOs -benchtime 10x ./models/sqlstore; } $(call bench-out,$@)

## bench-pages: overview and detail pages, 32 signed-in clients, 100 SLOs over 30 days, on
## PostgreSQL, reported apart: warm (each page rendered once before), live (every SLO gets
## a row a minute while timing) and cold (the first page of a freshly started app)
bench-pages:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -run '^$$' -bench 'Pages/(warm|live|chart)' -benchtime 2000x -timeout 30m ./cmd/sitemetrics && \
	  ./.ci/with-services $(GO) test -run '^$$' -bench 'Pages/cold' -benchtime 5x -timeout 30m ./cmd/sitemetrics; } $(call bench-out,$@)

## bench-feeds: the feeds list (page and GET /api/v1/feeds) and the hourly delivery prune,
## on 950,000 deliveries and samples spread over 30 days
bench-feeds:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -run '^$$' -bench Feeds -benchtime 20x -timeout 30m ./models/sqlstore; } $(call bench-out,$@)

## bench-scale N=1000: N SLOs (30-day ratio SLOs, each on its own series of a 5-minute
## feed) × DAYS (30) of data posted through the webhook (1,000-row batches, 4 senders) into
## a real `sitemetrics serve` process: ingest beside COPY, RSS, bytes per sample, warm,
## live, burst and cold reads with 16 clients, VIEWERS (1000) overview viewers, freshness
## on one and on two replicas, and a table at the end. N=100 takes about 2 minutes on a quiet
## 2-core machine; N=1000 about 6 minutes (8.6 million rows through the webhook, most of the
## time), N=1000 DAYS=1 about 2, N=10000 DAYS=1 about 6; N=10000 at 30 days about an hour and a half. SAVE=1 writes bench-scale-N.txt, or
## bench-scale-N-DAYSd.txt when DAYS is given.
## Also: WINDOW (30d), PHASE (10s per measured read), FRESH (20 samples per replica set),
## PPROF=DIR (CPU profiles of the app during ingest, viewers, live and burst and its first answer after a restart, and its heap).
## STATEMENTS=1: PostgreSQL's statements that took most time while ingesting (pg_stat_statements).
bench-scale-env = SITEMETRICS_BENCH_SLOS=$(or $(N),$(1)) SITEMETRICS_BENCH_DAYS=$(or $(DAYS),$(2)) \
	SITEMETRICS_BENCH_WINDOW=$(or $(WINDOW),30d) SITEMETRICS_BENCH_PHASE=$(or $(PHASE),10s) \
	SITEMETRICS_BENCH_VIEWERS=$(or $(VIEWERS),1000) SITEMETRICS_BENCH_FRESH=$(or $(FRESH),20) \
	$(if $(PPROF),SITEMETRICS_BENCH_PPROF=$(abspath $(PPROF))) \
	$(if $(STATEMENTS),SITEMETRICS_BENCH_STATEMENTS=1)
bench-scale-vars = N=$(or $(N),$(1)) $(foreach v,DAYS WINDOW PHASE VIEWERS FRESH PPROF STATEMENTS,$(if $($(v)),$(v)=$($(v))))
bench-scale:
	@mkdir -p docs/benchmarks; { $(call bench-head,$(call bench-scale-vars,1000)); \
	  $(if $(STATEMENTS),SITEMETRICS_PG_OPTIONS="$$SITEMETRICS_PG_OPTIONS -c shared_preload_libraries=pg_stat_statements") \
	  ./.ci/with-services env $(call bench-scale-env,1000,30) \
	    $(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 4h ./cmd/sitemetrics; } $(call bench-out,bench-scale-$(or $(N),1000)$(if $(DAYS),-$(DAYS)d))

## bench-fresh N=100: how long after a webhook's 2xx the API shows it, p50/p99, on the
## replica posted to and on a second replica sharing the database (N SLOs, DAYS=1 of data)
bench-fresh:
	@mkdir -p docs/benchmarks; { $(call bench-head,$(call bench-scale-vars,100)); \
	  ./.ci/with-services env $(call bench-scale-env,100,1) \
	    $(GO) test -run '^$$' -bench '^BenchmarkFresh$$' -benchtime 1x -timeout 30m ./cmd/sitemetrics; } $(call bench-out,$@)

## bench-notify: notifications on PostgreSQL: delivery that crosses a tier → receiver's POST
## (p50/p99), how fast the sender drains the outbox, messages in a 30-minute flapping run
bench-notify:
	@mkdir -p docs/benchmarks; { $(call bench-head); \
	  ./.ci/with-services $(GO) test -count=1 -run '^TestFlappingRun$$' -v ./notify 2>&1 | grep -E 'figure|^(ok|FAIL|---)' && \
	  ./.ci/with-services $(GO) test -run '^$$' -bench CrossingToPOST -benchtime 60x ./notify && \
	  ./.ci/with-services $(GO) test -run '^$$' -bench SenderDrain -benchtime 2000x ./notify; } $(call bench-out,$@)
