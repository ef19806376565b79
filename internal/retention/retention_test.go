//go:build integration

package retention_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/worker"
	"github.com/tzurot/tzurot/workflows"
)

func TestMain(m *testing.M) { itest.Main(m) }

// seeded is one row on either side of every cutoff: old rows the purge
// named must delete, young ones it must keep.
type seeded struct {
	sql               *sql.DB
	user, personality uuid.UUID
}

func seed(t *testing.T, s *itest.Stack) seeded {
	t.Helper()
	db := s.Activities.SQL
	d := seeded{sql: db, user: uuid.New(), personality: uuid.New()}
	exec(t, db, `INSERT INTO users (id, discord_id) VALUES ($1, '111111111111111111')`, d.user)
	exec(t, db, `INSERT INTO personalities (id, name) VALUES ($1, 'kerach')`, d.personality)
	return d
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (d seeded) hold(t *testing.T, age time.Duration) {
	exec(t, d.sql, `INSERT INTO usage_logs (id, user_id, provider, model, tokens_total, request_type, timestamp)
		VALUES (gen_random_uuid(), $1, $2, '', 1000, 'text', $3)`, d.user, store.HoldProvider, time.Now().Add(-age))
}

func (d seeded) usage(t *testing.T, age time.Duration) {
	exec(t, d.sql, `INSERT INTO usage_logs (id, user_id, provider, model, tokens_total, request_type, timestamp)
		VALUES (gen_random_uuid(), $1, 'openrouter', 'm', 10, 'text', $2)`, d.user, time.Now().Add(-age))
}

func (d seeded) delivery(t *testing.T, key string, age time.Duration) {
	exec(t, d.sql, `INSERT INTO deliveries (key, channel_id, discord_message_id, created_at) VALUES ($1, '2222222', left(md5($1), 20), $2)`, // a message is one delivery's (0027)
		key, time.Now().Add(-age))
}

func (d seeded) turn(t *testing.T, content string, age time.Duration) {
	exec(t, d.sql, `INSERT INTO conversation_history (channel_id, personality_id, user_id, role, content, created_at)
		VALUES ('2222222', $1, $2, 'user', $3, $4)`, d.personality, d.user, content, time.Now().Add(-age))
}

func (d seeded) memory(t *testing.T, content string, age time.Duration) {
	exec(t, d.sql, `INSERT INTO memories (personality_id, user_id, content, model, embedding, signature, created_at)
		VALUES ($1, $2, $3, 'e', '\x00000000', '\x00', $4)`, d.personality, d.user, content, time.Now().Add(-age))
}

// left is what remains: column of table's rows matching where, in order,
// one space between each.
func (d seeded) left(t *testing.T, column, table, where string) string {
	t.Helper()
	var out string
	q := `SELECT coalesce(string_agg(` + column + `, ' ' ORDER BY ` + column + `), '') FROM ` + table + ` WHERE ` + where
	if err := d.sql.QueryRow(q).Scan(&out); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

func (d seeded) want(t *testing.T, column, table, where string, want ...string) {
	t.Helper()
	if got := d.left(t, column, table, where); got != strings.Join(want, " ") {
		t.Errorf("%s left: %q, want %q", table, got, want)
	}
}

const (
	day = 24 * time.Hour
	// margin puts a row clearly on one side of a cutoff, clocks and test
	// time allowed for.
	margin = 10 * time.Minute
)

func replyKey(request string, part int) string {
	return deliverykey.Part(deliverykey.New(workflows.GenerateReplyID(request), deliverykey.Reply), part)
}

// purge runs PurgeRetention on the stack's worker and returns its result
// and the current details it ended with.
func purge(t *testing.T, s *itest.Stack, in workflows.PurgeRetentionInput) (workflows.PurgeRetentionResult, string) {
	t.Helper()
	ctx := context.Background()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "retention-test/" + uuid.NewString(), TaskQueue: s.TaskQueue,
	}, workflows.PurgeRetentionName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.PurgeRetentionResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("PurgeRetention %+v: %v", in, err)
	}
	return res, details(t, s, run.GetID(), run.GetRunID())
}

// details are a workflow's current details, as the Web UI reads them (the
// __temporal_workflow_metadata query).
func details(t *testing.T, s *itest.Stack, id, runID string) string {
	t.Helper()
	v, err := s.Client.QueryWorkflow(context.Background(), id, runID, "__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		t.Fatal(err)
	}
	return md.GetCurrentDetails()
}

// A purge deletes exactly the expired rows of each kind it is asked for,
// in batches, and keeps the rest: limit holds past HoldTTL (not younger
// ones, never real usage), delivery records past DeliveryKeep except
// replies'; with RETENTION_DAYS unset no turn, memory or reply record goes.
// With 30 days, turns, memories and replies' records older than that go.
// Its current details and its result carry the counts; a second run
// deletes nothing.
func TestPurgeDeletesExactlyTheExpiredRows(t *testing.T) {
	s := itest.New(t, itest.Options{})
	d := seed(t, s)
	holdCut := activities.HoldTTL + time.Minute
	for range 5 {
		d.hold(t, holdCut+margin)
	}
	d.hold(t, activities.HoldTTL-2*time.Minute) // still counting
	d.usage(t, 400*day)                         // usage is never purged
	d.delivery(t, "imagine/1/post", workflows.DeliveryKeep+margin)
	d.delivery(t, "reply/5/dm", workflows.DeliveryKeep+margin)
	d.delivery(t, "reply/6/voice-dm", workflows.DeliveryKeep+margin)
	d.delivery(t, "imagine/2/post", workflows.DeliveryKeep-margin)
	d.delivery(t, replyKey("7", 1), 31*day)
	d.delivery(t, replyKey("8", 0), 29*day)
	d.turn(t, "old turn", 30*day+margin)
	d.turn(t, "young turn", 30*day-margin)
	d.memory(t, "old memory", 30*day+margin)
	d.memory(t, "young memory", 30*day-margin)

	res, det := purge(t, s, workflows.PurgeRetentionInput{Expired: true, BatchSize: 2})
	want := workflows.PurgeCounts{LimitHolds: 5, DeliveryRecords: 3}
	if res.Counts != want {
		t.Errorf("expired purge counts %+v, want %+v", res.Counts, want)
	}
	if wantDet := "purged 5 limit holds, 3 delivery records, 0 turns, 0 memories"; det != wantDet {
		t.Errorf("details %q, want %q", det, wantDet)
	}
	d.want(t, "model", "usage_logs", "true", "", "m") // the hold still counting, and the usage
	d.want(t, "key", "deliveries", "true", "imagine/2/post", replyKey("7", 1), replyKey("8", 0))
	d.want(t, "content", "conversation_history", "true", "old turn", "young turn")
	d.want(t, "content", "memories", "true", "old memory", "young memory")

	res, det = purge(t, s, workflows.PurgeRetentionInput{RetentionDays: 30})
	want = workflows.PurgeCounts{DeliveryRecords: 1, Turns: 1, Memories: 1}
	if res.Counts != want || det != "purged 0 limit holds, 1 delivery records, 1 turns, 1 memories" {
		t.Errorf("30-day purge counts %+v, details %q; want %+v", res.Counts, det, want)
	}
	d.want(t, "key", "deliveries", "true", "imagine/2/post", replyKey("8", 0))
	d.want(t, "content", "conversation_history", "true", "young turn")
	d.want(t, "content", "memories", "true", "young memory")
	d.want(t, "model", "usage_logs", "true", "", "m")

	res, _ = purge(t, s, workflows.PurgeRetentionInput{Expired: true, RetentionDays: 30})
	if res.Counts != (workflows.PurgeCounts{}) {
		t.Errorf("a second run deleted %+v, want nothing", res.Counts)
	}
}

// horizonProbe asks PostingHorizon with a cutoff in the future, which no
// schedule does, so that a workflow started by the test counts as running
// since before it.
func horizonProbe(ctx workflow.Context, before time.Time) (time.Time, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var h time.Time
	err := workflow.ExecuteActivity(ctx, "PostingHorizon", operator.PostingHorizonInput{
		Before: before, WorkflowTypes: []string{workflows.GenerateReplyName, workflows.ImagineImageName},
	}).Get(ctx, &h)
	return h, err
}

// PostingHorizon moves a cutoff back to the start of the oldest posting
// workflow still running (found through the visibility query it sends the
// dev server), and leaves it when none is.
func TestPostingHorizonIsTheOldestRunningPoster(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	ctx := context.Background()
	w := worker.New(s.Client, s.TaskQueue, s.Activities, s.Operator)
	w.RegisterWorkflow(horizonProbe)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	probe := func(before time.Time) time.Time {
		t.Helper()
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.TaskQueue}, horizonProbe, before)
		if err != nil {
			t.Fatal(err)
		}
		var h time.Time
		if err := run.Get(ctx, &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if h := probe(past); !h.Equal(past) {
		t.Errorf("no poster running before %s: horizon %s, want the cutoff itself", past, h)
	}
	// A GenerateReply that no worker picks up stays running.
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID("stuck-" + uuid.NewString()), TaskQueue: s.TaskQueue + "-nobody",
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Client.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "test over") //nolint:errcheck // best effort
	desc, err := s.Client.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	started := desc.GetWorkflowExecutionInfo().GetStartTime().AsTime()
	future := time.Now().Add(time.Hour)
	testwait.Until(t, "the running GenerateReply to set the horizon", func() bool {
		// Visibility keeps microseconds: a horizon a little early is safe.
		return probe(future).Equal(started.Truncate(time.Microsecond))
	})
}

// A run whose worker stops mid-purge goes on under another worker from
// where its history stands: every expired row goes, every other stays, and
// the counts are whole.
func TestPurgeResumesOnAnotherWorker(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	d := seed(t, s)
	const expired = 40
	for range expired {
		d.hold(t, time.Hour)
	}
	d.hold(t, time.Minute)
	ctx := context.Background()
	w1 := worker.New(s.Client, s.TaskQueue, s.Activities, s.Operator)
	if err := w1.Start(); err != nil {
		t.Fatal(err)
	}
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.TaskQueue},
		workflows.PurgeRetentionName, workflows.PurgeRetentionInput{Expired: true, BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	holdsLeft := func() int {
		var n int
		if err := d.sql.QueryRow(`SELECT count(*) FROM usage_logs WHERE provider = 'hold'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testwait.Until(t, "the first batches", func() bool { return holdsLeft() <= expired-3 })
	w1.Stop()
	if n := holdsLeft(); n <= 1 {
		t.Fatalf("%d holds left when the worker stopped: the run was over before the test could stop it", n)
	}
	w2 := worker.New(s.Client, s.TaskQueue, s.Activities, s.Operator)
	if err := w2.Start(); err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	var res workflows.PurgeRetentionResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Counts.LimitHolds != expired || holdsLeft() != 1 {
		t.Errorf("purged %d holds, %d left; want %d purged and the live one left", res.Counts.LimitHolds, holdsLeft(), expired)
	}
}
