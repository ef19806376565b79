package searchattr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Registered is the Set of tzurot's attributes the namespace has with the
// type All gives them (OperatorService ListSearchAttributes). One registered
// with another type is left out, so it is never set.
func Registered(ctx context.Context, svc operatorservice.OperatorServiceClient, namespace string) (Set, error) {
	resp, err := svc.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %s: %w", namespace, err)
	}
	var out Set
	for _, k := range All {
		if t, ok := resp.GetCustomAttributes()[k.GetName()]; ok && t == k.GetValueType() {
			out = append(out, k.GetName())
		}
	}
	return out, nil
}

// Register adds every attribute of All the namespace lacks
// (OperatorService AddSearchAttributes) and returns the names it added, in
// All's order; those already there with the right type are left alone, so it
// is safe to run again. An attribute registered with another type is an
// error naming it, its type and the one tzurot needs; nothing is added then.
func Register(ctx context.Context, svc operatorservice.OperatorServiceClient, namespace string) ([]string, error) {
	resp, err := svc.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	var added []string
	for _, k := range All {
		name, want := k.GetName(), k.GetValueType()
		have, ok := resp.GetCustomAttributes()[name]
		if !ok {
			have, ok = resp.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = want
			added = append(added, name)
		case have != want:
			return nil, fmt.Errorf("search attribute %s is registered on namespace %s as %s, but tzurot needs %s: remove it (temporal operator search-attribute remove --namespace %s --name %s --yes) or use another namespace",
				name, namespace, have, want, namespace, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	if _, err := svc.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	}); err != nil {
		return nil, fmt.Errorf("register search attributes %s on namespace %s: %w", strings.Join(added, ", "), namespace, err)
	}
	return added, nil
}

// Refused reports whether err is the server refusing a workflow start for a
// search attribute the namespace does not have (one removed since the
// starter listed them): InvalidArgument naming a search attribute.
func Refused(err error) bool {
	var bad *serviceerror.InvalidArgument
	return errors.As(err, &bad) && strings.Contains(strings.ToLower(bad.Error()), "search attribute")
}

// RecheckAfter is how long Known trusts a look-up before asking the
// namespace again, whatever it found: an operator who runs `tzurot temporal
// setup` sees the attributes set within it, and one who removes an
// attribute on a live namespace (`temporal operator search-attribute
// remove`) sees it no longer set, without restarting anything.
const RecheckAfter = 30 * time.Second

// Known is a process's view of the namespace's attributes: asked at most
// once per RecheckAfter, and again at once after Forget (a start or a
// workflow task the server refused for one). Safe for concurrent use.
type Known struct {
	c         client.Client
	namespace string
	now       func() time.Time
	// Log, when set, gets a WARN each time the namespace is found lacking
	// attributes tzurot sets (a different list from the last one found).
	Log *slog.Logger

	mu      sync.Mutex
	set     Set
	checked time.Time
	warned  string
}

// NewKnown asks c's OperatorService about namespace, the one c starts
// workflows in.
func NewKnown(c client.Client, namespace string) *Known {
	return &Known{c: c, namespace: namespace, now: time.Now}
}

// Set is the namespace's registered attributes, asked at most once per
// RecheckAfter; a failed look-up is the empty Set, so a start or an upsert
// never waits on it nor fails for it.
func (k *Known) Set(ctx context.Context) Set {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.checked.IsZero() && k.now().Sub(k.checked) < RecheckAfter {
		return k.set
	}
	k.checked = k.now()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	set, err := Registered(ctx, k.c.OperatorService(), k.namespace)
	if err != nil {
		set = nil
	}
	k.set = set
	if err == nil {
		k.warnMissing(set)
	}
	return k.set
}

// warnMissing logs, once per different list, the attributes set lacks.
func (k *Known) warnMissing(set Set) {
	var missing []string
	for _, a := range All {
		if !set.Has(a) {
			missing = append(missing, a.GetName())
		}
	}
	list := strings.Join(missing, ",")
	if k.Log == nil || list == k.warned {
		return
	}
	k.warned = list
	if list != "" {
		k.Log.Warn("the Temporal namespace lacks search attributes tzurot sets; workflows run without them: run `tzurot temporal setup`",
			"namespace", k.namespace, "missing", missing)
	}
}

// Forget drops what Known knows, so the next Set asks again: after a start
// was Refused.
func (k *Known) Forget() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set, k.checked = nil, time.Time{}
}

// Start starts a workflow through Known's client with the registered ones
// among vs as its search attributes (opts.TypedSearchAttributes) and
// input(set) as its one argument, so the workflow knows which attributes it
// may upsert. A start Refused for an attribute removed since the look-up is
// made once more, with what the namespace has then.
func (k *Known) Start(ctx context.Context, opts client.StartWorkflowOptions, workflow any, input func(Set) any, vs ...Value) (client.WorkflowRun, error) {
	set := k.Set(ctx)
	opts.TypedSearchAttributes = set.Attributes(vs...)
	run, err := k.c.ExecuteWorkflow(ctx, opts, workflow, input(set))
	if err != nil && Refused(err) {
		k.Forget()
		set = k.Set(ctx)
		opts.TypedSearchAttributes = set.Attributes(vs...)
		run, err = k.c.ExecuteWorkflow(ctx, opts, workflow, input(set))
	}
	return run, err
}

// ForgetOnRefusal is a gRPC client interceptor that calls forget when the
// server refuses a workflow task's completion, or a start, for a search
// attribute the namespace lacks (Refused): the worker's Known then asks the
// namespace again before the task's retry, instead of at most RecheckAfter
// later.
func ForgetOnRefusal(forget func()) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		// Below the SDK's own interceptors the error is still a gRPC status.
		if err != nil && (Refused(err) || Refused(serviceerror.FromStatus(status.Convert(err)))) {
			forget()
		}
		return err
	}
}
