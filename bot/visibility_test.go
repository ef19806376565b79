//go:build integration

package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/temporalclient"
	"github.com/tzurot/tzurot/internal/temporalsetup"
	"github.com/tzurot/tzurot/internal/testwait"
)

// attributesWorld is a world on itest.AttributesNamespace, set up as
// `tzurot temporal setup` sets up a namespace.
func attributesWorld(t *testing.T, opts itest.Options) *world {
	t.Helper()
	opts.Namespace = itest.AttributesNamespace
	w := newWorld(t, opts)
	var out strings.Builder
	if err := temporalsetup.RunSteps(context.Background(), w.Client, w.Config, &out, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

// shown is what the Web UI shows of a workflow: its static summary and
// details, its current details, its search attributes (by name) and the
// summaries of its events (activities, markers, children).
type shown struct {
	summary, details, current string
	attrs                     map[string]string
	eventSummaries            []string
}

// text is everything shown, one item a line, for scans.
func (s shown) text() string {
	parts := append([]string{s.summary, s.details, s.current}, s.eventSummaries...)
	for k, v := range s.attrs {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "\n")
}

// shown reads what the Web UI shows of workflow id: DescribeWorkflowExecution,
// the metadata query (current details) and the history's user metadata,
// decoded through the codec as the Web UI decodes them.
func (w *world) shown(t *testing.T, id string) shown {
	t.Helper()
	ctx := context.Background()
	codec, err := temporalclient.Codec(w.Config)
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter()
	decode := func(p *commonpb.Payload) string {
		if p == nil {
			return ""
		}
		var s string
		if err := dc.FromPayload(p, &s); err != nil {
			t.Fatalf("decode a summary of %s: %v", id, err)
		}
		return s
	}
	desc, err := w.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	md := desc.GetExecutionConfig().GetUserMetadata()
	out := shown{summary: decode(md.GetSummary()), details: decode(md.GetDetails()), attrs: map[string]string{}}
	for name, p := range desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields() {
		var v any
		if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
			t.Fatal(err)
		}
		out.attrs[name] = fmt.Sprint(v)
	}
	q, err := w.Client.QueryWorkflow(ctx, id, "", "__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var meta sdkpb.WorkflowMetadata
	if err := q.Get(&meta); err != nil {
		t.Fatal(err)
	}
	out.current = meta.GetCurrentDetails()
	it := w.Client.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if s := decode(ev.GetUserMetadata().GetSummary()); s != "" {
			out.eventSummaries = append(out.eventSummaries, s)
		}
	}
	return out
}

// listed are the ids of the workflows the Web UI's list shows for query
// (ListWorkflow), in the world's namespace.
func (w *world) listed(t *testing.T, query string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	var token []byte
	for {
		resp, err := w.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: w.Config.TemporalNamespace, Query: query, NextPageToken: token,
		})
		if err != nil {
			t.Fatalf("list %s: %v", query, err)
		}
		for _, e := range resp.GetExecutions() {
			ids[e.GetExecution().GetWorkflowId()] = true
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids
		}
	}
}

// untilListed waits until query lists every id of want and none of not.
func (w *world) untilListed(t *testing.T, query string, want, not []string) {
	t.Helper()
	var got map[string]bool
	testwait.Until(t, "the list "+query, func() bool {
		got = w.listed(t, query)
		for _, id := range want {
			if !got[id] {
				return false
			}
		}
		for _, id := range not {
			if got[id] {
				t.Fatalf("%s lists %s, which it must not", query, id)
			}
		}
		return true
	})
}
