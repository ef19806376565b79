package itest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/tzurot/tzurot/internal/temporalclient"
)

// AssertNoSecrets reads the whole history of each workflow — raw as stored,
// and again with every payload decoded through the codec — and the worker's
// log, and fails the test if any secret appears in them.
func (s *Stack) AssertNoSecrets(t testing.TB, workflowIDs []string, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	codec, err := temporalclient.Codec(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range workflowIDs {
		var raw, decoded bytes.Buffer
		it := s.Client.GetWorkflowHistory(ctx, id, "", false, 0)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("read history of %s: %v", id, err)
			}
			b, _ := protojson.Marshal(ev)
			raw.Write(b)
			err = proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{
				Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
					out, err := codec.Decode(ps)
					if err != nil {
						return nil, err
					}
					for _, p := range out {
						decoded.Write(p.Data)
						for _, v := range p.Metadata {
							decoded.Write(v)
						}
					}
					return ps, nil
				},
			})
			if err != nil {
				t.Fatalf("decode history of %s: %v", id, err)
			}
		}
		if raw.Len() == 0 {
			t.Fatalf("history of %s is empty: nothing was scanned", id)
		}
		for _, secret := range secrets {
			if strings.Contains(raw.String(), secret) || strings.Contains(decoded.String(), secret) {
				t.Errorf("a key appears in the history of %s", id)
			}
		}
	}
	logs := s.Logs.String()
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("a key appears in the worker's log")
		}
	}
}

// AssertNoSecretsAnywhere is AssertNoSecrets over every workflow that ran on
// the stack's task queue — all of them, not only those a test knows to name —
// and fails if fewer than min are found (visibility lags a little behind, so
// it waits up to 10 s for them).
func (s *Stack) AssertNoSecretsAnywhere(t testing.TB, min int, secrets ...string) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids = ids[:0]
		var token []byte
		for {
			resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: fmt.Sprintf("TaskQueue = '%s'", s.TaskQueue), NextPageToken: token,
			})
			if err != nil {
				t.Fatalf("list workflows: %v", err)
			}
			for _, e := range resp.Executions {
				ids = append(ids, e.Execution.WorkflowId)
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		if len(ids) >= min || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(ids) < min {
		t.Fatalf("found %d workflows on %s, want at least %d to scan", len(ids), s.TaskQueue, min)
	}
	s.AssertNoSecrets(t, ids, secrets...)
}
