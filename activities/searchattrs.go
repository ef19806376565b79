package activities

import (
	"context"

	"github.com/tzurot/tzurot/internal/searchattr"
)

// RegisteredSearchAttributes is the Set of tzurot's search attributes the
// namespace has now, as the worker's cache (searchattr.Known) last found
// it: at most searchattr.RecheckAfter old, asked again at once after the
// server refused a workflow task for a missing one. Workflows ask it, as a
// local activity, just before they upsert, and upsert only these, so an
// attribute removed while they run never fails their task. Never an error:
// a namespace that cannot be asked gives the empty Set (nothing is set).
func (a *Activities) RegisteredSearchAttributes(ctx context.Context) (searchattr.Set, error) {
	if a == nil || a.SearchAttributes == nil {
		return searchattr.Set{}, nil
	}
	return a.SearchAttributes.Set(ctx), nil
}
