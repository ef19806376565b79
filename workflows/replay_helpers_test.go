package workflows

import (
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/payloadcodec"
)

// replayRecorded replays every history in testdata matching pattern
// (recorded on a dev server by e2e's TestRecord…History tests) against
// the workflow fn registered as name, so that a change breaking runs
// already in flight fails here rather than in production.
func replayRecorded(t *testing.T, pattern string, fn any, name string) {
	t.Helper()
	// The histories' payloads are sealed with itest.MasterKey; importing itest
	// here would be an import cycle.
	key, err := keycrypt.ParseMasterKey(keycrypt.MasterKeyEnv, strings.Repeat("5a", 32))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := payloadcodec.New(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter()
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		t.Fatalf("no recorded histories %s in testdata", pattern)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				DataConverter: dc,
				FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
					DataConverter: dc, EncodeCommonAttributes: true,
				}),
			})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
