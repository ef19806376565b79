# tzurot — see README.md. `make dev` runs the stack, `make test` runs every test.
GO      ?= go
TEMPORAL_CLI_VERSION := v1.5.1
BIN     := $(CURDIR)/bin

.PHONY: dev test test-short bench build generate migration tools fmt vet check clean

dev: ## the whole stack on this machine: PostgreSQL, Temporal + Web UI on :8233, migrations, worker, bot (built with -tags dev: the stand-ins stay out of `make build`)
	$(GO) run -tags dev ./cmd/tzurot dev

test: tools ## every test: unit, PostgreSQL, Temporal dev server, fuzz seed corpora
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test -count=1 -timeout 30m ./...

test-short: ## unit tests only (no PostgreSQL, no Temporal)
	$(GO) test -short ./...

bench: tools ## the benchmarks of BENCHMARKS.md (about 20 minutes)
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test ./worker -run '^$$' -bench 'BenchmarkReply|BenchmarkResolvePersonality' -benchtime 200x -count 3 -timeout 30m
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test ./worker -run '^$$' -bench BenchmarkLLMConfigJSONB -benchtime 1x -count 3 -timeout 30m
	$(GO) test ./bot -run '^$$' -bench BenchmarkReplyDB -benchtime 20x -timeout 60m

build:
	$(GO) build -o $(BIN)/tzurot ./cmd/tzurot

tools: $(BIN)/temporal ## the Temporal CLI (dev server + Web UI), built from the Go module proxy

$(BIN)/temporal:
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into ./bin (first time only, a few minutes)"
	GOBIN=$(BIN) CGO_ENABLED=0 $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

generate: ## regenerate ent code from ent/schema, the zone list of /timezone from Go's tz database, and the configuration tables of README.md and docs/contract.md from internal/config
	$(GO) generate ./ent ./bot ./internal/config

migration: ## write the next migration from ent/schema: make migration NAME=add_x [TABLES=t1,t2]
	@test -n "$(NAME)" || (echo "usage: make migration NAME=snake_case_name [TABLES=t1,t2]" && exit 1)
	$(GO) run ./internal/tools/migrategen -name $(NAME) $(if $(TABLES),-tables $(TABLES))

fmt:
	gofmt -w $$(git ls-files '*.go')

check: ## what CI checks before the tests
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "unformatted (run make fmt):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf $(BIN)/tzurot
