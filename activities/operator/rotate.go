package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
	"go.temporal.io/sdk/activity"

	"github.com/tzurot/tzurot/internal/keycrypt"
)

// maxKeyIDs bounds the ids a rotation result lists, so a run where nothing
// opens (say, the worker was started without APP_MASTER_KEY_PREVIOUS) cannot
// outgrow Temporal's payload limit; the counts still count every row.
const maxKeyIDs = 1000

// RotateKeysInput continues a master-key rotation after a cursor (a
// user_api_keys id; empty for the start).
type RotateKeysInput struct {
	Cursor    string `json:"cursor"`
	BatchSize int    `json:"batch_size"`
	// Budget is how long to keep taking pages before returning, so the
	// workflow records progress between calls.
	Budget time.Duration `json:"budget"`
}

// RotateKeysResult is where a call stopped and what it did, summed over its
// pages.
type RotateKeysResult struct {
	Cursor         string `json:"cursor"`
	Done           bool   `json:"done"`
	Resealed       int    `json:"resealed"`
	AlreadyCurrent int    `json:"already_current"`
	// Failed counts rows that neither key opens; FailedIDs lists the first
	// maxKeyIDs of them. Such rows are left exactly as they are.
	Failed    int      `json:"failed"`
	FailedIDs []string `json:"failed_ids,omitempty"`
	// PreviousKey says whether this worker had APP_MASTER_KEY_PREVIOUS: without
	// it the run re-seals nothing and only sorts rows into current and failed.
	PreviousKey bool `json:"previous_key"`
}

// sealedRow is one user_api_keys row as stored.
type sealedRow struct {
	id     string
	sealed keycrypt.Sealed
}

// RotateKeysPage re-seals user_api_keys rows that only the previous master key
// opens under the current one, page after page in id order until the budget
// is spent or no rows are left. It heartbeats the running result after every
// page, so a retry after a crash resumes at the last page it reported; rows it
// re-sealed after that report open with the current key by then and are
// counted as already current the second time, which keeps the counts adding
// up to the rows seen.
//
// With no previous key configured the call is still allowed: it changes
// nothing and reports which rows the current key opens, which is how an
// operator checks the end state after retiring the old key.
func (a *Activities) RotateKeysPage(ctx context.Context, in RotateKeysInput) (RotateKeysResult, error) {
	res := resumed(ctx, RotateKeysResult{Cursor: in.Cursor})
	res.PreviousKey = a.Keys.HasPrevious()
	n := in.BatchSize
	if n <= 0 {
		n = 500
	}
	deadline := time.Now().Add(in.Budget)
	for {
		rows, err := a.keyPage(ctx, res.Cursor, n)
		if err != nil {
			return res, err
		}
		if err := a.resealPage(ctx, rows, &res); err != nil {
			return res, err
		}
		if len(rows) > 0 {
			res.Cursor = rows[len(rows)-1].id
		}
		res.Done = len(rows) < n
		activity.RecordHeartbeat(ctx, res)
		if res.Done || time.Now().After(deadline) {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
}

// keyPage reads up to n rows after cursor in id order.
func (a *Activities) keyPage(ctx context.Context, cursor string, n int) ([]sealedRow, error) {
	if cursor == "" {
		cursor = zeroUUID
	}
	rs, err := a.SQL.QueryContext(ctx, `SELECT id, iv, content, tag FROM user_api_keys WHERE id > $1 ORDER BY id LIMIT $2`, cursor, n)
	if err != nil {
		return nil, fmt.Errorf("read user_api_keys: %w", err)
	}
	defer rs.Close()
	var rows []sealedRow
	for rs.Next() {
		var r sealedRow
		if err := rs.Scan(&r.id, &r.sealed.IV, &r.sealed.Content, &r.sealed.Tag); err != nil {
			return nil, fmt.Errorf("read user_api_keys: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// resealPage writes a page's re-sealed rows in one statement. Each update is
// conditional on the row still holding what was read, so a key the user
// replaced meanwhile (/wallet set) is never overwritten with the old secret,
// and a page redone after a crash changes nothing twice.
func (a *Activities) resealPage(ctx context.Context, rows []sealedRow, res *RotateKeysResult) error {
	var ids, oldIV, oldContent, oldTag, newIV, newContent, newTag []string
	for _, r := range rows {
		pt, usedPrevious, err := a.Keys.OpenWithKeyInfo(r.sealed)
		switch {
		case err != nil:
			res.fail(r.id)
		case !usedPrevious:
			res.AlreadyCurrent++
		default:
			s, err := a.Keys.Seal(pt)
			if err != nil {
				return err
			}
			ids = append(ids, r.id)
			oldIV, oldContent, oldTag = append(oldIV, r.sealed.IV), append(oldContent, r.sealed.Content), append(oldTag, r.sealed.Tag)
			newIV, newContent, newTag = append(newIV, s.IV), append(newContent, s.Content), append(newTag, s.Tag)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rs, err := a.SQL.QueryContext(ctx, `UPDATE user_api_keys u
SET iv = v.new_iv, content = v.new_content, tag = v.new_tag, updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS v(id, old_iv, old_content, old_tag, new_iv, new_content, new_tag)
WHERE u.id = v.id AND u.iv = v.old_iv AND u.content = v.old_content AND u.tag = v.old_tag
RETURNING u.id`,
		pq.Array(ids), pq.Array(oldIV), pq.Array(oldContent), pq.Array(oldTag), pq.Array(newIV), pq.Array(newContent), pq.Array(newTag))
	if err != nil {
		return fmt.Errorf("re-seal user_api_keys: %w", err)
	}
	updated := map[string]bool{}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return fmt.Errorf("re-seal user_api_keys: %w", err)
		}
		updated[id] = true
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("re-seal user_api_keys: %w", err)
	}
	res.Resealed += len(updated)
	for _, id := range ids {
		if !updated[id] {
			if err := a.resealChanged(ctx, id, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// resealChanged handles a row that changed between the page's read and its
// update: it is read again and judged on what it holds now.
func (a *Activities) resealChanged(ctx context.Context, id string, res *RotateKeysResult) error {
	for range 5 {
		var s keycrypt.Sealed
		err := a.SQL.QueryRowContext(ctx, `SELECT iv, content, tag FROM user_api_keys WHERE id = $1`, id).Scan(&s.IV, &s.Content, &s.Tag)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the user removed the key meanwhile: nothing left to rotate
		}
		if err != nil {
			return fmt.Errorf("re-read user_api_keys %s: %w", id, err)
		}
		pt, usedPrevious, err := a.Keys.OpenWithKeyInfo(s)
		if err != nil {
			res.fail(id)
			return nil
		}
		if !usedPrevious {
			res.AlreadyCurrent++
			return nil
		}
		fresh, err := a.Keys.Seal(pt)
		if err != nil {
			return err
		}
		r, err := a.SQL.ExecContext(ctx, `UPDATE user_api_keys SET iv = $2, content = $3, tag = $4, updated_at = now()
WHERE id = $1 AND iv = $5 AND content = $6 AND tag = $7`, id, fresh.IV, fresh.Content, fresh.Tag, s.IV, s.Content, s.Tag)
		if err != nil {
			return fmt.Errorf("re-seal user_api_keys %s: %w", id, err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			res.Resealed++
			return nil
		}
	}
	// Retrying the activity redoes the page, which is harmless.
	return fmt.Errorf("user_api_keys %s kept changing while being re-sealed", id)
}

func (r *RotateKeysResult) fail(id string) {
	r.Failed++
	if len(r.FailedIDs) < maxKeyIDs {
		r.FailedIDs = append(r.FailedIDs, id)
	}
}

// VerifyKeysInput continues a verification after a cursor.
type VerifyKeysInput struct {
	Cursor    string `json:"cursor"`
	BatchSize int    `json:"batch_size"`
}

// VerifyKeysResult counts the rows and those the current key alone opens.
type VerifyKeysResult struct {
	Cursor          string `json:"cursor"`
	Total           int    `json:"total"`
	OpenWithCurrent int    `json:"open_with_current"`
	// NotCurrent counts rows that need the previous key or open with neither;
	// NotCurrentIDs lists the first maxKeyIDs of them.
	NotCurrent    int      `json:"not_current"`
	NotCurrentIDs []string `json:"not_current_ids,omitempty"`
}

// VerifyKeys reads every user_api_keys row and checks that the current master
// key alone opens it, i.e. that APP_MASTER_KEY_PREVIOUS can be removed. It
// writes nothing; heartbeats carry its progress so a retry resumes.
func (a *Activities) VerifyKeys(ctx context.Context, in VerifyKeysInput) (VerifyKeysResult, error) {
	res := resumed(ctx, VerifyKeysResult{Cursor: in.Cursor})
	n := in.BatchSize
	if n <= 0 {
		n = 2000
	}
	for {
		rows, err := a.keyPage(ctx, res.Cursor, n)
		if err != nil {
			return res, err
		}
		for _, r := range rows {
			res.Total++
			// The current key is always tried first, so not needing the
			// previous one means the current key opened it.
			if _, usedPrevious, err := a.Keys.OpenWithKeyInfo(r.sealed); err == nil && !usedPrevious {
				res.OpenWithCurrent++
				continue
			}
			res.NotCurrent++
			if len(res.NotCurrentIDs) < maxKeyIDs {
				res.NotCurrentIDs = append(res.NotCurrentIDs, r.id)
			}
		}
		if len(rows) > 0 {
			res.Cursor = rows[len(rows)-1].id
		}
		activity.RecordHeartbeat(ctx, res)
		if len(rows) < n {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
}
