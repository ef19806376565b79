// Package e2e holds the end-to-end tests and the benchmarks of BENCHMARKS.md:
// each drives whole workflows through the real worker (package worker), on a
// Temporal dev server and a PostgreSQL database of its own, with the fake
// OpenRouter, ElevenLabs and Discord servers of internal/fakes standing in for
// the outside world (internal/itest builds that stack). The tests sit behind
// the e2e build tag: `go test -tags e2e ./e2e` (make test runs them), with
// TEMPORAL_CLI or ./bin/temporal and PostgreSQL's initdb at hand.
package e2e
