package operator

// The retention purges: PurgeBatch deletes one bounded batch of one kind of
// expired row, PostingHorizon says how far back delivery records may go.
// workflows.PurgeRetention decides what is expired and runs the batches;
// internal/retention schedules it.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/internal/heartbeat"
	"github.com/tzurot/tzurot/internal/store"
)

// Kinds of row a retention purge deletes, as PurgeBatchInput.Kind names them.
const (
	// PurgeLimitHolds: usage_logs rows that are limit reservations
	// (provider 'hold') stamped before the cutoff.
	PurgeLimitHolds = "limit_holds"
	// PurgeDeliveries: deliveries rows other than replies' made before the
	// cutoff (DMs, /imagine posts).
	PurgeDeliveries = "deliveries"
	// PurgeReplyDeliveries: replies' deliveries rows (ReplyKeys) made before
	// the cutoff.
	PurgeReplyDeliveries = "reply_deliveries"
	// PurgeTurns: conversation_history rows made before the cutoff.
	PurgeTurns = "conversation_turns"
	// PurgeMemories: memories rows made before the cutoff.
	PurgeMemories = "memories"
)

// ReplyKeys is the SQL LIKE pattern of the delivery keys of GenerateReply's
// replies, reply/<request id>/reply/<part> (internal/deliverykey): the bot
// routes a Discord reply to a split reply's later message through its row, to
// the user turn it answered, so these rows live as long as the turns do. It
// is a literal in the statements, never a parameter, so PostgreSQL can match
// them to the partial indexes of migration 0022, whose predicates spell it.
const ReplyKeys = "reply/%/reply/%"

// DefaultPurgeBatch is how many rows one PurgeBatch call deletes when the
// input names no limit: a statement of a fraction of a second that locks only
// those rows; MaxPurgeBatch bounds what an input may ask.
const (
	DefaultPurgeBatch = 1000
	MaxPurgeBatch     = 10000
)

// purgeStatement deletes at most $2 rows of table matching where (rows before
// $1), oldest first: the inner select walks the index on order, and SKIP
// LOCKED passes over rows another transaction is changing (a hold being
// released), which the next batch or run takes. The ids go through an array
// so the delete finds them by primary key: with "id IN (SELECT …)" the
// planner may hash-join the ids against a scan of the whole table.
func purgeStatement(table, where, order string) string {
	return `DELETE FROM ` + table + ` WHERE id = ANY(ARRAY(SELECT id FROM ` + table + ` WHERE ` + where +
		` ORDER BY ` + order + ` LIMIT $2 FOR UPDATE SKIP LOCKED))`
}

// purges is each kind's statement; each is served by an index
// (TestPurgeStatementsUseIndexes): usagelog_provider, the two partial
// indexes of deliveries on created_at, conversationhistory_created_at and
// memory_created_at (0022).
var purges = map[string]string{
	PurgeLimitHolds:      purgeStatement(`usage_logs`, `provider = '`+store.HoldProvider+`' AND "timestamp" < $1`, `"timestamp"`),
	PurgeDeliveries:      purgeStatement(`deliveries`, `key NOT LIKE '`+ReplyKeys+`' AND created_at < $1`, `created_at`),
	PurgeReplyDeliveries: purgeStatement(`deliveries`, `key LIKE '`+ReplyKeys+`' AND created_at < $1`, `created_at`),
	PurgeTurns:           purgeStatement(`conversation_history`, `created_at < $1`, `created_at`),
	PurgeMemories:        purgeStatement(`memories`, `created_at < $1`, `created_at`),
}

// PurgeStatement is the SQL PurgeBatch runs for kind ($1 the cutoff, $2 the
// limit), for plan checks; "" for an unknown kind.
func PurgeStatement(kind string) string { return purges[kind] }

// PurgeBatchInput is one batch of a retention purge.
type PurgeBatchInput struct {
	Kind string `json:"kind"` // PurgeLimitHolds, PurgeDeliveries, …
	// Before is the cutoff: only rows stamped strictly before it go.
	Before time.Time `json:"before"`
	// Limit is the most rows deleted, 1 to MaxPurgeBatch; 0 means
	// DefaultPurgeBatch.
	Limit int `json:"limit,omitempty"`
}

// PurgeBatch deletes up to Limit rows of Kind stamped before Before, oldest
// first, in one statement (its own short transaction), heartbeating while it
// runs, and returns how many it deleted: fewer than the limit means none is
// left. Running it again is safe: it deletes only rows still before the
// cutoff, or nothing. An unknown kind, a zero cutoff or a limit out of range
// is BadInput, not retried.
func (a *Activities) PurgeBatch(ctx context.Context, in PurgeBatchInput) (int, error) {
	stmt, ok := purges[in.Kind]
	switch {
	case !ok:
		return 0, badInput(fmt.Sprintf("no retention purge is named %q", in.Kind))
	case in.Before.IsZero():
		return 0, badInput("a retention purge batch needs its cutoff (before)")
	case in.Limit < 0 || in.Limit > MaxPurgeBatch:
		return 0, badInput(fmt.Sprintf("a retention purge batch deletes 1 to %d rows, not %d", MaxPurgeBatch, in.Limit))
	}
	limit := in.Limit
	if limit == 0 {
		limit = DefaultPurgeBatch
	}
	var n int64
	err := heartbeat.While(ctx, func() error {
		res, err := a.SQL.ExecContext(ctx, stmt, in.Before, limit)
		if err != nil {
			return fmt.Errorf("purge %s: %w", in.Kind, err)
		}
		n, err = res.RowsAffected()
		return err
	}, in.Kind)
	return int(n), err
}

// PostingHorizonInput asks how far back delivery records may be purged.
type PostingHorizonInput struct {
	// Before is the latest cutoff the purge has in mind.
	Before time.Time `json:"before"`
	// WorkflowTypes are the workflows that post under delivery keys.
	WorkflowTypes []string `json:"workflow_types"`
}

// PostingHorizon is Before, or the start time of the oldest workflow of
// WorkflowTypes still running that started before it, whichever is earlier.
// A delivery row is written by its workflow after that workflow started, so
// every row older than the horizon belongs to a closed workflow, whose
// activities retry no more: deleting it cannot make a post happen twice,
// however long a workflow was kept waiting (workers down, say). One
// visibility query (List Workflow Executions) in the worker's namespace,
// paged; its error is Temporal's, retried.
func (a *Activities) PostingHorizon(ctx context.Context, in PostingHorizonInput) (time.Time, error) {
	if in.Before.IsZero() || len(in.WorkflowTypes) == 0 {
		return time.Time{}, badInput("PostingHorizon needs a cutoff and the posting workflow types")
	}
	types := make([]string, len(in.WorkflowTypes))
	for i, t := range in.WorkflowTypes {
		types[i] = "'" + strings.ReplaceAll(t, "'", "") + "'"
	}
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND StartTime < '%s' AND WorkflowType IN (%s)",
		in.Before.UTC().Format(time.RFC3339Nano), strings.Join(types, ", "))
	horizon := in.Before
	c := activity.GetClient(ctx)
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: query, PageSize: 100, NextPageToken: token,
		})
		if err != nil {
			return time.Time{}, fmt.Errorf("list the posting workflows still running: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			if st := e.GetStartTime().AsTime(); st.Before(horizon) {
				horizon = st
			}
		}
		activity.RecordHeartbeat(ctx)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return horizon, nil
		}
	}
}
