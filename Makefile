# tzurot — see README.md. `make dev` runs the stack, `make test` runs every test,
# `make test-short` the unit tests alone, `make check` formatting, vet and the linter.
GO      ?= go
TEMPORAL_CLI_VERSION := v1.5.1
GOLANGCI_LINT_VERSION := v2.15.0
BIN     := $(CURDIR)/bin

.PHONY: dev test test-short bench build generate migration tools fmt lint check clean

dev: ## the whole stack on this machine: PostgreSQL, Temporal + Web UI on :8233, migrations, worker, bot (built with -tags dev: the stand-ins stay out of `make build`)
	$(GO) run -tags dev ./cmd/tzurot dev

test: tools ## every test: unit, integration (PostgreSQL, Temporal dev server), e2e/, fuzz seed corpora
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test -tags 'integration e2e' -count=1 -timeout 30m ./...

test-short: ## unit tests only: no build tag, so no PostgreSQL and no Temporal CLI (under a minute)
	$(GO) test ./...

bench: tools ## the benchmarks of BENCHMARKS.md (about 30 minutes)
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test -tags e2e ./e2e -run '^$$' -bench 'BenchmarkReply|BenchmarkResolvePersonality' -benchtime 200x -count 3 -timeout 30m
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test -tags e2e ./e2e -run '^$$' -bench BenchmarkLLMConfigJSONB -benchtime 1x -count 3 -timeout 30m
	TEMPORAL_CLI=$(BIN)/temporal $(GO) test -tags e2e ./e2e -run '^$$' -bench BenchmarkMemoryReply -benchtime 100x -timeout 30m
	$(GO) test -tags integration ./bot -run '^$$' -bench BenchmarkReplyDB -benchtime 20x -timeout 60m

build:
	$(GO) build -o $(BIN)/tzurot ./cmd/tzurot

tools: $(BIN)/temporal $(BIN)/golangci-lint ## the Temporal CLI (dev server + Web UI) and golangci-lint, built from the Go module proxy

$(BIN)/temporal:
	@echo "building the Temporal CLI $(TEMPORAL_CLI_VERSION) into ./bin (first time only, a few minutes)"
	GOBIN=$(BIN) CGO_ENABLED=0 $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(BIN)/golangci-lint:
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) into ./bin (first time only)"
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

generate: ## regenerate ent code from ent/schema, the zone list of /timezone from Go's tz database, and the configuration tables of README.md and docs/contract.md from internal/config
	$(GO) generate ./ent ./bot ./internal/config

migration: ## write the next migration from ent/schema: make migration NAME=add_x [TABLES=t1,t2]
	@test -n "$(NAME)" || (echo "usage: make migration NAME=snake_case_name [TABLES=t1,t2]" && exit 1)
	$(GO) run ./internal/tools/migrategen -name $(NAME) $(if $(TABLES),-tables $(TABLES))

fmt:
	gofmt -w $$(git ls-files '*.go')

lint: $(BIN)/golangci-lint ## golangci-lint with .golangci.yml (the tagged tests included)
	$(BIN)/golangci-lint run ./...

check: $(BIN)/golangci-lint ## what CI checks before the tests: formatting, vet (with no tag: the unit tests build alone; and every tag), the linter
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "unformatted (run make fmt):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags 'integration e2e dev' ./...
	$(BIN)/golangci-lint run ./...

clean:
	rm -rf $(BIN)/tzurot
