package store

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent/predicate"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/ent/user"
)

// HoldProvider marks usage_logs rows that are reservations the limit checks
// write while a call is in flight, not usage: every sum here leaves them out.
const HoldProvider = "hold"

// Kinds of usage (usage_logs.request_type).
const (
	UsageText  = usagelog.RequestTypeText
	UsageImage = usagelog.RequestTypeImage
	UsageVoice = usagelog.RequestTypeVoice
)

// Usage is one provider call's usage_logs row.
type Usage struct {
	// ID, when not uuid.Nil, is the row's id: AddUsage writes a row once
	// per id. uuid.Nil gets a new id.
	ID     uuid.UUID
	UserID uuid.UUID
	// PersonalityID is nil for a call no personality made.
	PersonalityID *uuid.UUID
	// Provider is the provider id (internal/provider); Model its model, at
	// most 100 characters (the column's size).
	Provider, Model string
	// In, Out and Total are tokens (ElevenLabs: characters, as In and Total).
	In, Out, Total int
	Kind           usagelog.RequestType
	// CostUSD is what the call cost in US dollars, as the provider reported
	// it; nil when it reported none (stored as null, never as 0).
	CostUSD *float64
}

// AddUsage writes the usage row; a row with u.ID written before is left as
// it is and is no error, so a repeated write counts once. written is false
// for such a repeat, so that whatever counts the row elsewhere (a metric)
// counts it once too.
func (s *Store) AddUsage(ctx context.Context, u Usage) (written bool, err error) {
	c := s.db.UsageLog.Create().
		SetUserID(u.UserID).
		SetNillablePersonalityID(u.PersonalityID).
		SetProvider(u.Provider).
		SetModel(u.Model).
		SetTokensIn(u.In).
		SetTokensOut(u.Out).
		SetTokensTotal(u.Total).
		SetRequestType(u.Kind).
		SetNillableCostUsd(u.CostUSD)
	if u.ID != uuid.Nil {
		c.SetID(u.ID)
	}
	err = c.OnConflict(sql.ConflictColumns(usagelog.FieldID)).DoNothing().Exec(ctx)
	if errors.Is(err, stdsql.ErrNoRows) {
		return false, nil // DO NOTHING returned no row: written before
	}
	return err == nil, err
}

// UsageFilter picks usage rows: zero fields pick all.
type UsageFilter struct {
	// UserID is the user's row id; uuid.Nil means everyone.
	UserID uuid.UUID
	// Since is the earliest timestamp counted.
	Since time.Time
	// Kind is UsageText or UsageImage; "" means both.
	Kind usagelog.RequestType
}

func (f UsageFilter) where() []predicate.UsageLog {
	var ps []predicate.UsageLog
	if f.UserID != uuid.Nil {
		ps = append(ps, usagelog.UserID(f.UserID))
	}
	if f.Kind != "" {
		ps = append(ps, usagelog.RequestTypeEQ(f.Kind))
	}
	if !f.Since.IsZero() {
		ps = append(ps, usagelog.TimestampGTE(f.Since))
	}
	return append(ps, usagelog.ProviderNEQ(HoldProvider))
}

// UsageRow is usage summed over one group (a model, a user's Discord id).
type UsageRow struct {
	Key      string `sql:"key"`
	Requests int    `sql:"requests"`
	In       int    `sql:"sum_in"`
	Out      int    `sql:"sum_out"`
	Total    int    `sql:"sum_total"`
	// Cost is the summed cost_usd in US dollars, nil when no row of the
	// group reported a cost (SUM skips nulls).
	Cost *float64 `sql:"sum_cost"`
}

// Sum adds rows up into one row keyed "Total".
func Sum(rows []UsageRow) UsageRow {
	t := UsageRow{Key: "Total"}
	for _, r := range rows {
		t.Requests += r.Requests
		t.In += r.In
		t.Out += r.Out
		t.Total += r.Total
		if r.Cost != nil {
			t.Cost = new(*r.Cost + value(t.Cost))
		}
	}
	return t
}

// UsageByModel sums the picked usage per model, most tokens first.
func (s *Store) UsageByModel(ctx context.Context, f UsageFilter) ([]UsageRow, error) {
	return s.usageGrouped(ctx, byModel, 0, f)
}

// TopUsers sums the picked usage per user (keyed by Discord id), the limit
// users with most tokens first.
func (s *Store) TopUsers(ctx context.Context, f UsageFilter, limit int) ([]UsageRow, error) {
	return s.usageGrouped(ctx, byUser, limit, f)
}

// UsageTotal sums all the picked usage.
func (s *Store) UsageTotal(ctx context.Context, f UsageFilter) (UsageRow, error) {
	rows, err := s.usageGrouped(ctx, byModel, 0, f)
	return Sum(rows), err
}

// byModel and byUser are the grouping keys of usageGrouped.
func byModel(s *sql.Selector) string { return s.C(usagelog.FieldModel) }

func byUser(s *sql.Selector) string {
	u := sql.Table(user.Table)
	s.Join(u).On(s.C(usagelog.FieldUserID), u.C(user.FieldID))
	return u.C(user.FieldDiscordID)
}

// usageGrouped sums the matching usage rows per key, most tokens first; the
// database does the summing so that a busy month is one small result.
func (s *Store) usageGrouped(ctx context.Context, key func(*sql.Selector) string, limit int, f UsageFilter) ([]UsageRow, error) {
	q := s.db.UsageLog.Query().Where(f.where()...)
	if limit > 0 {
		q.Limit(limit)
	}
	var rows []UsageRow
	err := q.Modify(func(s *sql.Selector) {
		k := key(s)
		s.Select(
			sql.As(k, "key"),
			sql.As(sql.Count("*"), "requests"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensIn)), "sum_in"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensOut)), "sum_out"),
			sql.As(sql.Sum(s.C(usagelog.FieldTokensTotal)), "sum_total"),
			sql.As(sql.Sum(s.C(usagelog.FieldCostUsd)), "sum_cost"),
		).GroupBy(k).OrderBy(sql.Desc("sum_total"), sql.Asc("key"))
	}).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("sum usage: %w", err)
	}
	return rows, nil
}

// DistinctUsers counts the users with picked usage.
func (s *Store) DistinctUsers(ctx context.Context, f UsageFilter) (int, error) {
	var n []struct {
		N int `sql:"n"`
	}
	err := s.db.UsageLog.Query().Where(f.where()...).Modify(func(s *sql.Selector) {
		s.Select(sql.As(sql.Count(sql.Distinct(s.C(usagelog.FieldUserID))), "n"))
	}).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	if len(n) == 0 {
		return 0, nil
	}
	return n[0].N, nil
}

// value is *p, or 0 for nil.
func value(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
