//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/operator"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/keycrypt"
	"github.com/tzurot/tzurot/internal/opcli"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/worker"
	"github.com/tzurot/tzurot/workflows"
)

// The rotation's new key is the tests' APP_MASTER_KEY, so the test's client
// and the worker agree on the payload codec; rows start sealed with oldKey.
var (
	oldKey     = strings.Repeat("0b", 32)
	unknownKey = strings.Repeat("c7", 32)
)

// Key kinds of the seeded rows.
const (
	sealedOld     = "old"
	sealedNew     = "new"
	sealedUnknown = "unknown"
)

type seededKey struct {
	id, plaintext, kind string
	sealed              keycrypt.Sealed
}

// seedRotationKeys writes n users with one key each, sealed with the old key,
// except every tenth (already on the new key) and, when unknown, every
// thirtieth (a key neither side has). updated_at is set in the past so the
// rows a rotation wrote can be told apart.
func seedRotationKeys(t *testing.T, s *itest.Stack, n int, unknown bool) map[string]seededKey {
	t.Helper()
	rings := map[string]*keycrypt.Keyring{}
	for kind, hexKey := range map[string]string{sealedOld: oldKey, sealedNew: itest.MasterKey, sealedUnknown: unknownKey} {
		k, err := keycrypt.NewKeyring(hexKey, "")
		if err != nil {
			t.Fatal(err)
		}
		rings[kind] = k
	}
	var discordIDs, ivs, contents, tags []string
	byDiscord := map[string]seededKey{}
	for i := 1; i <= n; i++ {
		kind := sealedOld
		switch {
		case unknown && i%30 == 0:
			kind = sealedUnknown
		case i%10 == 1:
			kind = sealedNew
		}
		discordID := fmt.Sprint(300000000000000000 + i)
		pt := fmt.Sprintf("sk-or-v1-%064d", i)
		sealed, err := rings[kind].Seal(pt)
		if err != nil {
			t.Fatal(err)
		}
		byDiscord[discordID] = seededKey{plaintext: pt, kind: kind, sealed: sealed}
		discordIDs, ivs, contents, tags = append(discordIDs, discordID), append(ivs, sealed.IV), append(contents, sealed.Content), append(tags, sealed.Tag)
	}
	db := s.Activities.SQL
	if _, err := db.Exec(`INSERT INTO users (discord_id) SELECT unnest($1::text[])`, pq.Array(discordIDs)); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`INSERT INTO user_api_keys (user_id, iv, content, tag, created_at, updated_at)
SELECT u.id, v.iv, v.content, v.tag, '2000-01-01', '2000-01-01'
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) v(discord_id, iv, content, tag) JOIN users u ON u.discord_id = v.discord_id
RETURNING id, (SELECT discord_id FROM users WHERE id = user_id)`, pq.Array(discordIDs), pq.Array(ivs), pq.Array(contents), pq.Array(tags))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seeded := map[string]seededKey{}
	for rows.Next() {
		var id, discordID string
		if err := rows.Scan(&id, &discordID); err != nil {
			t.Fatal(err)
		}
		k := byDiscord[discordID]
		k.id = id
		seeded[id] = k
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seeded) != n {
		t.Fatalf("seeded %d keys, want %d", len(seeded), n)
	}
	return seeded
}

func countKind(seeded map[string]seededKey, kind string) int {
	n := 0
	for _, k := range seeded {
		if k.kind == kind {
			n++
		}
	}
	return n
}

// assertRotated checks the table after a rotation: no row lost, every row
// with a known key opens with the new key alone and holds the same secret,
// and rows with an unknown key are reported and untouched.
func assertRotated(t *testing.T, s *itest.Stack, seeded map[string]seededKey, res workflows.RotateMasterKeyResult) {
	t.Helper()
	newOnly, err := keycrypt.NewKeyring(itest.MasterKey, "")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Activities.SQL.Query(`SELECT id, iv, content, tag FROM user_api_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	var wantFailed []string
	for rows.Next() {
		var id string
		var got keycrypt.Sealed
		if err := rows.Scan(&id, &got.IV, &got.Content, &got.Tag); err != nil {
			t.Fatal(err)
		}
		seen++
		k, ok := seeded[id]
		if !ok {
			t.Fatalf("row %s was not seeded", id)
		}
		if k.kind == sealedUnknown {
			wantFailed = append(wantFailed, id)
			if got != k.sealed {
				t.Errorf("row %s, which no key opens, was changed", id)
			}
			continue
		}
		pt, err := newOnly.Open(got)
		if err != nil {
			t.Errorf("row %s (%s key) does not open with the new key alone: %v", id, k.kind, err)
		} else if pt != k.plaintext {
			t.Errorf("row %s holds a different secret after rotation", id)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(seeded) {
		t.Errorf("%d rows after rotation, %d seeded", seen, len(seeded))
	}
	if sum := res.Resealed + res.AlreadyCurrent + res.Failed; sum != len(seeded) {
		t.Errorf("re-sealed %d + already current %d + failed %d = %d, want %d", res.Resealed, res.AlreadyCurrent, res.Failed, sum, len(seeded))
	}
	got := append([]string{}, res.FailedIDs...)
	sort.Strings(got)
	sort.Strings(wantFailed)
	if strings.Join(got, ",") != strings.Join(wantFailed, ",") || res.Failed != len(wantFailed) {
		t.Errorf("failed ids %v (%d), want exactly the %d unknown-key rows", got, res.Failed, len(wantFailed))
	}
	if res.Verified != (len(wantFailed) == 0) || res.Total != len(seeded) || res.NotCurrent != len(wantFailed) {
		t.Errorf("verified %v, total %d, not current %d; want verified only without unknown rows", res.Verified, res.Total, res.NotCurrent)
	}
}

// assertKeysOpen checks that every key a known master key sealed opens with
// keys and still holds its secret: users notice nothing mid-rotation.
func assertKeysOpen(t *testing.T, s *itest.Stack, seeded map[string]seededKey, keys *keycrypt.Keyring) {
	t.Helper()
	rows, err := s.Activities.SQL.Query(`SELECT id, iv, content, tag FROM user_api_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var got keycrypt.Sealed
		if err := rows.Scan(&id, &got.IV, &got.Content, &got.Tag); err != nil {
			t.Fatal(err)
		}
		if k := seeded[id]; k.kind != sealedUnknown {
			if pt, err := keys.Open(got); err != nil || pt != k.plaintext {
				t.Errorf("mid-rotation, row %s does not open to its secret: %v", id, err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// startRotationWorker runs `tzurot worker` with the new key current and the
// old one previous; later entries of Cmd.Env override the stack's.
func startRotationWorker(t *testing.T, s *itest.Stack, bin string) *exec.Cmd {
	t.Helper()
	return startWorker(t, s, bin, "APP_MASTER_KEY="+itest.MasterKey, "APP_MASTER_KEY_PREVIOUS="+oldKey)
}

func terminateRotationAtEnd(t *testing.T, s *itest.Stack) {
	t.Cleanup(func() {
		_ = s.Client.TerminateWorkflow(context.Background(), workflows.RotateMasterKeyID, "", "test over")
	})
}

// A rotation whose worker is SIGKILLed twice mid-page, each time while it
// waits on a row the test holds locked, resumes on a new worker and ends with
// every known key opening with the new key alone and the unknown ones reported.
func TestRotateMasterKeyKilledMidWayResumes(t *testing.T) {
	bin := buildTzurot(t)
	s := itest.New(t, itest.Options{NoWorker: true})
	terminateRotationAtEnd(t, s)
	const n, batch = 3000, 100
	seeded := seedRotationKeys(t, s, n, true)
	db := s.Activities.SQL
	ctx := context.Background()

	// Hold two old-key rows, a third and two thirds of the way through, so
	// each worker stops there with part of the table done.
	var ordered []string
	for id := range seeded {
		ordered = append(ordered, id)
	}
	sort.Strings(ordered)
	lockAt := func(from int) *sql.Tx {
		for _, id := range ordered[from:] {
			if seeded[id].kind != sealedOld {
				continue
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(`SELECT 1 FROM user_api_keys WHERE id = $1 FOR UPDATE`, id); err != nil {
				t.Fatal(err)
			}
			return tx
		}
		t.Fatal("no old-key row to lock")
		return nil
	}
	locks := []*sql.Tx{lockAt(n / 3), lockAt(2 * n / 3)}
	t.Cleanup(func() {
		for _, tx := range locks {
			_ = tx.Rollback()
		}
	})
	waiting := func() int {
		var w int
		scanRow(t, db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`), &w)
		return w
	}
	rotated := func() int {
		var r int
		scanRow(t, db.QueryRow(`SELECT count(*) FROM user_api_keys WHERE updated_at > '2001-01-01'`), &r)
		return r
	}

	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.RotateMasterKeyID, TaskQueue: s.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.RotateMasterKeyName, workflows.RotateMasterKeyInput{BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	oldRows := countKind(seeded, sealedOld)
	// What the bot and the worker hold during the rotation.
	both, err := keycrypt.NewKeyring(itest.MasterKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	for kill, tx := range locks {
		w := startRotationWorker(t, s, bin)
		testwait.Until(t, "the worker to reach the locked row", func() bool { return waiting() > 0 })
		// The SDK batches heartbeats for 8 s (0.8 × the heartbeat timeout);
		// waiting for that flush makes the server hold the cursor of the last
		// finished page, so the resume point is known.
		waitForHeartbeat(t, s, time.Now())
		done := rotated()
		if done == 0 || done >= oldRows {
			t.Fatalf("kill %d: %d of %d old rows re-sealed, want a rotation under way", kill+1, done, oldRows)
		}
		killWorker(t, w)
		assertKeysOpen(t, s, seeded, both)
		// The killed worker's statement is still queued on the lock; letting
		// it finish is what a crash between write and report looks like.
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		testwait.Until(t, "the killed worker's statement to finish", func() bool { return waiting() == 0 })
		t.Logf("kill %d with %d of %d old rows re-sealed", kill+1, done, oldRows)
	}
	startRotationWorker(t, s, bin)
	res := runResult[workflows.RotateMasterKeyResult](t, run, 90*time.Second)
	t.Logf("result: re-sealed %d, already current %d, failed %d, verified %v", res.Resealed, res.AlreadyCurrent, res.Failed, res.Verified)
	assertRotated(t, s, seeded, res)
	// Each retry resumed at its heartbeat's cursor, so only the page in
	// flight at each kill was read again (and counted as already current).
	if res.Resealed < oldRows-2*batch {
		t.Errorf("re-sealed %d of %d old rows: the retries did not resume from their heartbeats", res.Resealed, oldRows)
	}
	if rotated() != oldRows {
		t.Errorf("%d rows written, want exactly the %d old-key rows", rotated(), oldRows)
	}
	if !res.PreviousKey {
		t.Error("result says the worker had no previous key")
	}
}

// waitForHeartbeat waits until the server has a heartbeat of the rotation's
// page activity sent after since.
func waitForHeartbeat(t *testing.T, s *itest.Stack, since time.Time) {
	t.Helper()
	testwait.Until(t, "a heartbeat", func() bool {
		d, err := s.Client.DescribeWorkflowExecution(context.Background(), workflows.RotateMasterKeyID, "")
		if err != nil {
			return false
		}
		for _, a := range d.PendingActivities {
			if a.ActivityType.GetName() == "RotateKeysPage" && a.LastHeartbeatTime != nil && a.LastHeartbeatTime.AsTime().After(since) {
				return true
			}
		}
		return false
	})
}

// rotationWorker runs an in-process worker whose keyring is current (plus
// previous when set), standing in for a worker restarted with new settings.
func rotationWorker(t *testing.T, s *itest.Stack, previous string) func() {
	t.Helper()
	keys, err := keycrypt.NewKeyring(itest.MasterKey, previous)
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{DB: s.Activities.DB, SQL: s.Activities.SQL, Keys: keys, Log: s.Activities.Log}
	ops := &operator.Activities{DB: s.Activities.DB, SQL: s.Activities.SQL, Keys: keys, Log: s.Activities.Log}
	w := worker.New(s.Client, s.TaskQueue, acts, ops)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w.Stop
}

// The operator's command end to end: refused while a rotation runs, a run
// on a worker without the previous key changes nothing and says so, the real
// run verifies and says to remove the previous key, and a rerun is a no-op.
func TestRotateMasterKeyCommand(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	terminateRotationAtEnd(t, s)
	seeded := seedRotationKeys(t, s, 600, false)
	ctx := context.Background()
	log := s.Activities.Log

	// Nothing polls yet, so this one stays running.
	if _, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.RotateMasterKeyID, TaskQueue: s.TaskQueue},
		workflows.RotateMasterKeyName, workflows.RotateMasterKeyInput{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := opcli.RotateMasterKey(ctx, s.Config, &out, log); err == nil || err.Error() != "a rotation is already running: watch it at http://127.0.0.1:8233/namespaces/default/workflows/rotate-master-key" {
		t.Fatalf("second rotation: %v", err)
	}
	if err := s.Client.TerminateWorkflow(ctx, workflows.RotateMasterKeyID, "", "test"); err != nil {
		t.Fatal(err)
	}

	stop := rotationWorker(t, s, "")
	out.Reset()
	err := opcli.RotateMasterKey(ctx, s.Config, &out, log)
	stop()
	if err == nil || !strings.Contains(err.Error(), "not verified") || !strings.Contains(out.String(), "the worker has no APP_MASTER_KEY_PREVIOUS") {
		t.Fatalf("without a previous key: %v\n%s", err, out.String())
	}
	var written int
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM user_api_keys WHERE updated_at > '2001-01-01'`), &written)
	if written != 0 {
		t.Fatalf("a run without the previous key wrote %d rows", written)
	}

	stop = rotationWorker(t, s, oldKey)
	defer stop()
	out.Reset()
	if err := opcli.RotateMasterKey(ctx, s.Config, &out, log); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "remove APP_MASTER_KEY_PREVIOUS") {
		t.Errorf("output does not say what to do next:\n%s", out.String())
	}
	var res workflows.RotateMasterKeyResult
	if err := s.Client.GetWorkflow(ctx, workflows.RotateMasterKeyID, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	assertRotated(t, s, seeded, res)
	if res.Resealed != countKind(seeded, sealedOld) || res.AlreadyCurrent != countKind(seeded, sealedNew) {
		t.Errorf("re-sealed %d, already current %d; want %d and %d", res.Resealed, res.AlreadyCurrent, countKind(seeded, sealedOld), countKind(seeded, sealedNew))
	}

	out.Reset()
	if err := opcli.RotateMasterKey(ctx, s.Config, &out, log); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "re-sealed 0, already current 600, failed 0") {
		t.Errorf("rerun output:\n%s", out.String())
	}

	// A key no one can open is named, kept, and does not hold the previous key back.
	unknown, _ := keycrypt.NewKeyring(unknownKey, "")
	lost, _ := unknown.Seal("sk-or-v1-lost")
	var lostID string
	if err := s.Activities.SQL.QueryRow(`INSERT INTO user_api_keys (user_id, provider, iv, content, tag)
SELECT user_id, 'elevenlabs', $1, $2, $3 FROM user_api_keys LIMIT 1 RETURNING id`, lost.IV, lost.Content, lost.Tag).Scan(&lostID); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = opcli.RotateMasterKey(ctx, s.Config, &out, log)
	if err == nil || err.Error() != "rotation not verified: 1 of 601 keys do not open with APP_MASTER_KEY" ||
		!strings.Contains(out.String(), "  "+lostID+"\n") || !strings.Contains(out.String(), "it can be removed") {
		t.Errorf("with an unopenable key: %v\n%s", err, out.String())
	}
	var n int
	scanRow(t, s.Activities.SQL.QueryRow(`SELECT count(*) FROM user_api_keys WHERE id = $1 AND iv = $2 AND content = $3 AND tag = $4`, lostID, lost.IV, lost.Content, lost.Tag), &n)
	if n != 1 {
		t.Error("the unopenable key was changed or deleted")
	}
}

// A user who stores a new key (/wallet set) while the rotation holds the old
// one in a page keeps the new key: the page's write is conditional on the row
// being unchanged, and the changed row is judged again as it now is.
func TestRotateMasterKeyKeepsAKeyChangedMidPage(t *testing.T) {
	s := itest.New(t, itest.Options{NoWorker: true})
	seeded := seedRotationKeys(t, s, 50, false)
	keys, err := keycrypt.NewKeyring(itest.MasterKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for id, k := range seeded {
		if k.kind == sealedOld && (target == "" || id > target) {
			target = id
		}
	}
	// Hold the row so the page's update waits on it, then change it as
	// /wallet set would and let the page go on.
	db := s.Activities.SQL
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(`SELECT 1 FROM user_api_keys WHERE id = $1 FOR UPDATE`, target); err != nil {
		t.Fatal(err)
	}
	var env testsuite.WorkflowTestSuite
	aenv := env.NewTestActivityEnvironment()
	acts := &operator.Activities{DB: s.Activities.DB, SQL: db, Keys: keys, Log: s.Activities.Log}
	aenv.RegisterActivity(acts)
	type outcome struct {
		res operator.RotateKeysResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := aenv.ExecuteActivity(acts.RotateKeysPage, operator.RotateKeysInput{BatchSize: 100, Budget: time.Minute})
		var o outcome
		o.err = err
		if err == nil {
			o.err = v.Get(&o.res)
		}
		done <- o
	}()
	testwait.Until(t, "the page to wait on the held row", func() bool {
		var w int
		scanRow(t, db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`), &w)
		return w > 0
	})
	const replacement = "sk-or-v1-the-user-stored-this-one-meanwhile"
	fresh, err := keys.Seal(replacement)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE user_api_keys SET iv = $2, content = $3, tag = $4 WHERE id = $1`, target, fresh.IV, fresh.Content, fresh.Tag); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	var got keycrypt.Sealed
	if err := db.QueryRow(`SELECT iv, content, tag FROM user_api_keys WHERE id = $1`, target).Scan(&got.IV, &got.Content, &got.Tag); err != nil {
		t.Fatal(err)
	}
	if got != fresh {
		t.Fatal("the rotation overwrote a key stored while it ran")
	}
	oldRows := countKind(seeded, sealedOld)
	if !o.res.Done || o.res.Resealed != oldRows-1 || o.res.AlreadyCurrent != countKind(seeded, sealedNew)+1 || o.res.Failed != 0 {
		t.Fatalf("result %+v, want %d re-sealed and the changed row already current", o.res, oldRows-1)
	}
}
