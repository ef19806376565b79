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
	"google.golang.org/protobuf/proto"

	"github.com/tzurot/tzurot/internal/payloadcodec"
	"github.com/tzurot/tzurot/internal/redact"
	"github.com/tzurot/tzurot/internal/telemetry/telemetrytest"
	"github.com/tzurot/tzurot/internal/temporalclient"
)

// AssertNoSecrets reads the whole history of each workflow — raw as stored,
// and again with every payload decoded through the codec — the worker's log
// and, with Options.RecordSpans, every exported span, and fails the test if
// any secret appears in them.
//
// Besides the secrets given, it looks for the stack's Discord credentials:
// the bot token and every webhook and interaction token the Discord
// stand-in issued or saw, which must appear nowhere (ImagineImage carries
// its interaction's token sealed). Decoded failures (messages, stack
// traces, details) must also hold nothing of any shape redact masks.
func (s *Stack) AssertNoSecrets(t testing.TB, workflowIDs []string, secrets ...string) {
	t.Helper()
	codec := s.codec(t)
	webhookTokens, interactionTokens := s.Discord.Tokens()
	everywhere := append(append(append([]string{}, secrets...), webhookTokens...), interactionTokens...)
	if bot := s.Config.DiscordToken.Reveal(); bot != "" {
		everywhere = append(everywhere, bot)
	}
	notInFailures := everywhere
	for _, id := range workflowIDs {
		raw, decoded, failures := s.history(t, codec, id)
		if raw == "" {
			t.Fatalf("history of %s is empty: nothing was scanned", id)
		}
		for _, secret := range everywhere {
			if strings.Contains(decoded, secret) {
				t.Errorf("a key or token appears in the decoded history of %s", id)
			}
		}
		for _, secret := range notInFailures {
			if strings.Contains(raw, secret) || strings.Contains(failures, secret) {
				t.Errorf("a key or token appears in the history (raw, or a failure) of %s", id)
			}
		}
		for _, line := range strings.Split(failures, "\n") {
			if red := redact.String(line); red != line {
				t.Errorf("a failure in the history of %s holds a secret's shape: %s", id, red)
			}
		}
	}
	logs := s.Logs.String()
	for _, secret := range notInFailures {
		if strings.Contains(logs, secret) {
			t.Errorf("a key or token appears in the worker's log")
		}
	}
	if s.Spans != nil {
		spans := telemetrytest.Text(s.Spans.GetSpans()...)
		for _, secret := range notInFailures {
			if strings.Contains(spans, secret) {
				t.Errorf("a key or token appears in an exported span")
			}
		}
	}
}

// Failures returns the decoded failures in a workflow's history — each
// failure's message and stack trace and its details, one payload a line —
// for tests that check what an error became.
func (s *Stack) Failures(t testing.TB, workflowID string) string {
	t.Helper()
	_, _, failures := s.history(t, s.codec(t), workflowID)
	return failures
}

func (s *Stack) codec(t testing.TB) *payloadcodec.Codec {
	t.Helper()
	codec, err := temporalclient.Codec(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

// history reads a workflow's history: raw as stored (protojson), and its
// payloads decoded — failures' apart from the rest (inputs, results,
// markers), one payload a line.
func (s *Stack) history(t testing.TB, codec *payloadcodec.Codec, id string) (raw, decoded, failures string) {
	t.Helper()
	ctx := context.Background()
	var rawB, decodedB, failuresB bytes.Buffer
	it := s.Client.GetWorkflowHistory(ctx, id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("read history of %s: %v", id, err)
		}
		b, _ := protojson.Marshal(ev)
		rawB.Write(b)
		err = proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{
			Visitor: func(vc *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				out, err := codec.Decode(ps)
				if err != nil {
					return nil, err
				}
				w := &decodedB
				if inFailure(vc.Parent) {
					w = &failuresB
				}
				for _, p := range out {
					w.Write(p.Data)
					w.WriteByte('\n')
					for _, v := range p.Metadata {
						w.Write(v)
						w.WriteByte('\n')
					}
				}
				return ps, nil
			},
		})
		if err != nil {
			t.Fatalf("decode history of %s: %v", id, err)
		}
	}
	return rawB.String(), decodedB.String(), failuresB.String()
}

// inFailure reports whether a payload belongs to a failure: its encoded
// message and stack trace, or its details.
func inFailure(parent proto.Message) bool {
	return parent != nil && strings.HasPrefix(string(proto.MessageName(parent)), "temporal.api.failure.")
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
