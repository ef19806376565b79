package searchattr

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// namespace stands in for a Temporal namespace's search attributes and for
// the client that starts workflows in it, refusing a start that sets one it
// lacks, as the server does.
type namespace struct {
	operatorservice.OperatorServiceClient
	client.Client
	attrs  map[string]enumspb.IndexedValueType
	lists  int
	adds   []map[string]enumspb.IndexedValueType
	starts []temporal.SearchAttributes
	down   bool
}

func (n *namespace) ListSearchAttributes(context.Context, *operatorservice.ListSearchAttributesRequest, ...grpc.CallOption) (*operatorservice.ListSearchAttributesResponse, error) {
	n.lists++
	if n.down {
		return nil, serviceerror.NewUnavailable("down")
	}
	return &operatorservice.ListSearchAttributesResponse{CustomAttributes: n.attrs,
		SystemAttributes: map[string]enumspb.IndexedValueType{"WorkflowType": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}, nil
}

func (n *namespace) AddSearchAttributes(_ context.Context, r *operatorservice.AddSearchAttributesRequest, _ ...grpc.CallOption) (*operatorservice.AddSearchAttributesResponse, error) {
	n.adds = append(n.adds, r.SearchAttributes)
	for k, v := range r.SearchAttributes {
		n.attrs[k] = v
	}
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

func (n *namespace) OperatorService() operatorservice.OperatorServiceClient { return n }

func (n *namespace) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	for k := range opts.TypedSearchAttributes.GetUntypedValues() {
		if _, ok := n.attrs[k.GetName()]; !ok {
			return nil, serviceerror.NewInvalidArgument("Namespace default has no mapping defined for search attribute " + k.GetName())
		}
	}
	n.starts = append(n.starts, opts.TypedSearchAttributes)
	return nil, nil
}

// Register adds only what is missing, and says so; a second run adds nothing.
func TestRegisterAddsWhatIsMissing(t *testing.T) {
	ns := &namespace{attrs: map[string]enumspb.IndexedValueType{"TzurotUser": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
	added, err := Register(context.Background(), ns, "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != len(All)-1 || added[0] != "TzurotPersonality" || len(ns.adds) != 1 || len(ns.adds[0]) != len(All)-1 {
		t.Fatalf("added %v (requests %v)", added, ns.adds)
	}
	if ns.attrs["TzurotTokens"] != enumspb.INDEXED_VALUE_TYPE_INT {
		t.Errorf("TzurotTokens registered as %s", ns.attrs["TzurotTokens"])
	}
	added, err = Register(context.Background(), ns, "default")
	if err != nil || len(added) != 0 || len(ns.adds) != 1 {
		t.Fatalf("second run: added %v, err %v, %d requests", added, err, len(ns.adds))
	}
}

// An attribute of another type is one line naming it, both types and the
// namespace; nothing is added.
func TestRegisterRefusesATypeClash(t *testing.T) {
	ns := &namespace{attrs: map[string]enumspb.IndexedValueType{"TzurotModel": enumspb.INDEXED_VALUE_TYPE_TEXT}}
	_, err := Register(context.Background(), ns, "prod")
	if err == nil || len(ns.adds) != 0 {
		t.Fatalf("err %v, adds %v", err, ns.adds)
	}
	for _, want := range []string{"TzurotModel", "prod", "Text", "Keyword"} {
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q does not name %s on one line", err, want)
		}
	}
	if set, _ := Registered(context.Background(), ns, "prod"); set.Has(Model) {
		t.Error("an attribute of the wrong type counts as registered")
	}
}

// A starter sets only registered attributes, asks again after RecheckAfter
// while some are missing, and never asks again once all are there.
func TestKnownSetsOnlyRegisteredAndRechecks(t *testing.T) {
	ns := &namespace{attrs: map[string]enumspb.IndexedValueType{"TzurotUser": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	k := NewKnown(ns, "default")
	k.now = func() time.Time { return now }
	ctx := context.Background()
	start := func() Set {
		var got Set
		if _, err := k.Start(ctx, client.StartWorkflowOptions{}, "GenerateReply", func(s Set) any { got = s; return nil },
			Keyword(User, "1"), Keyword(Personality, "kerach"), Keyword(Model, "")); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := start(); len(got) != 1 || !got.Has(User) || ns.starts[0].Size() != 1 {
		t.Fatalf("set %v, started with %v", got, ns.starts[0].GetUntypedValues())
	}
	if _, err := Register(ctx, ns, "default"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(RecheckAfter / 2)
	if start(); ns.starts[1].Size() != 1 || ns.lists != 2 {
		t.Fatalf("asked again before RecheckAfter: %d lists", ns.lists)
	}
	now = now.Add(RecheckAfter)
	if got := start(); len(got) != len(All) || ns.starts[2].Size() != 2 {
		t.Fatalf("after RecheckAfter: set %v, started with %v", got, ns.starts[2].GetUntypedValues())
	}
	// Every attribute known: still asked again after RecheckAfter, so one
	// removed on a live namespace is noticed.
	delete(ns.attrs, "TzurotModel")
	lists := ns.lists
	now = now.Add(RecheckAfter / 2)
	if start(); ns.lists != lists {
		t.Error("asked again before RecheckAfter")
	}
	now = now.Add(RecheckAfter)
	if got := start(); ns.lists != lists+1 || got.Has(Model) {
		t.Errorf("with every attribute known, a removal is not seen after RecheckAfter: %d lists, set %v", ns.lists-lists, got)
	}
}

// A look-up finding attributes missing logs one WARN naming them and the
// command that registers them, once per list; a refused workflow task
// (ForgetOnRefusal) makes the next Set ask at once.
func TestKnownWarnsAndForgetsOnRefusal(t *testing.T) {
	ns := &namespace{attrs: map[string]enumspb.IndexedValueType{}}
	ctx := context.Background()
	if _, err := Register(ctx, ns, "default"); err != nil {
		t.Fatal(err)
	}
	delete(ns.attrs, "TzurotModel")
	var logs strings.Builder
	k := NewKnown(ns, "default")
	k.Log = slog.New(slog.NewTextHandler(&logs, nil))
	k.Set(ctx)
	k.Forget()
	k.Set(ctx)
	if strings.Count(logs.String(), "level=WARN") != 1 || !strings.Contains(logs.String(), "TzurotModel") ||
		!strings.Contains(logs.String(), "tzurot temporal setup") {
		t.Errorf("logs %q, want one WARN naming TzurotModel and tzurot temporal setup", logs.String())
	}
	lists := ns.lists
	refused := serviceerror.NewInvalidArgument("BadSearchAttributes: Namespace default has no mapping defined for search attribute TzurotModel")
	call := ForgetOnRefusal(k.Forget)
	for _, err := range []error{nil, serviceerror.NewUnavailable("down"), refused, status.Error(codes.InvalidArgument, refused.Error())} {
		got := call(ctx, "/temporal.api.workflowservice.v1.WorkflowService/RespondWorkflowTaskCompleted", nil, nil, nil,
			func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return err })
		if got != err {
			t.Errorf("the interceptor changed %v into %v", err, got)
		}
		k.Set(ctx)
	}
	if ns.lists != lists+2 {
		t.Errorf("%d look-ups after two refusals (as the SDK and as gRPC see them) and two other answers, want 2", ns.lists-lists)
	}
}

// An attribute removed after the look-up: the refused start is made again
// with what the namespace has now. A namespace that cannot be asked gives
// none, and the start goes on.
func TestKnownSurvivesRemovalAndOutage(t *testing.T) {
	ns := &namespace{attrs: map[string]enumspb.IndexedValueType{}}
	ctx := context.Background()
	if _, err := Register(ctx, ns, "default"); err != nil {
		t.Fatal(err)
	}
	k := NewKnown(ns, "default")
	k.Set(ctx)
	delete(ns.attrs, "TzurotPersonality")
	var got Set
	_, err := k.Start(ctx, client.StartWorkflowOptions{}, "GenerateReply", func(s Set) any { got = s; return nil },
		Keyword(User, "1"), Keyword(Personality, "kerach"))
	if err != nil || got.Has(Personality) || !got.Has(User) || len(ns.starts) != 1 {
		t.Fatalf("err %v, set %v, starts %d", err, got, len(ns.starts))
	}
	down := &namespace{down: true}
	if set := NewKnown(down, "default").Set(ctx); len(set) != 0 {
		t.Errorf("an unreachable namespace gave %v", set)
	}
	if !Refused(serviceerror.NewInvalidArgument("Namespace x has no mapping defined for search attribute TzurotUser")) ||
		Refused(errors.New("search attribute")) || Refused(serviceerror.NewInvalidArgument("bad id")) {
		t.Error("Refused")
	}
}

// Updates keep the registered attributes with a value, and nothing else.
func TestSetUpdates(t *testing.T) {
	s := Set{"TzurotUser", "TzurotTokens"}
	sa := s.Attributes(Keyword(User, "1"), Keyword(Model, "m"), Int(Tokens, 5), Keyword(User, ""), Value{})
	if sa.Size() != 2 {
		t.Fatalf("attributes %v", sa.GetUntypedValues())
	}
	if v, _ := sa.GetInt64(Tokens); v != 5 {
		t.Errorf("tokens %d", v)
	}
	if Types()["TzurotTokens"] != enumspb.INDEXED_VALUE_TYPE_INT || Types()["TzurotUser"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Error("Types")
	}
}
