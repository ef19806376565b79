package activities

import (
	"context"

	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/metrics"
)

// CountReplyInput is one finished reply: its workflow id (reply/<request
// id>), outcome and whose key paid (metrics.KeyUnknown when not known).
type CountReplyInput struct {
	WorkflowID string `json:"workflow_id"`
	Outcome    string `json:"outcome"`
	KeySource  string `json:"key_source"`
}

// CountReply adds the reply to tzurot_replies_total once: it records the
// row deliverykey Counted of the workflow first (store.Once) and counts
// only when this call wrote it, so neither a retried workflow task (which
// runs a local activity again) nor a retried activity counts twice. It
// reports whether it counted. An error is the database's: the reply goes
// uncounted rather than counted twice.
func (a *Activities) CountReply(ctx context.Context, in CountReplyInput) (bool, error) {
	first, err := a.store().Once(ctx, deliverykey.New(in.WorkflowID, deliverykey.Counted))
	if err != nil || !first {
		return false, err
	}
	metrics.CountReply(in.Outcome, in.KeySource)
	return true, nil
}
