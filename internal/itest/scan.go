package itest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
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
