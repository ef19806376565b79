//go:build integration

package store_test

import (
	"math"
	"testing"

	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/store"
)

// A usage row's cost is stored as reported, null when none was (never 0);
// sums add the reported costs and are nil only when no row of the group had
// one; holds never count.
func TestUsageCost(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	for _, u := range []store.Usage{
		{UserID: a, Provider: "openrouter", Model: "m/paid", Total: 10, Kind: store.UsageText, CostUSD: new(0.0042)},
		{UserID: a, Provider: "openrouter", Model: "m/paid", Total: 10, Kind: store.UsageText, CostUSD: new(0.0008)},
		{UserID: a, Provider: "openrouter", Model: "m/free", Total: 10, Kind: store.UsageText, CostUSD: new(0.0)},
		{UserID: a, Provider: "elevenlabs", Model: "eleven_v3", Total: 10, Kind: store.UsageVoice},
		{UserID: a, Provider: store.HoldProvider, Model: "", Total: 1000, Kind: store.UsageText, CostUSD: new(9.0)},
	} {
		if _, err := s.AddUsage(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.UsageLog.Query().Where(usagelog.CostUsdIsNil()).CountX(ctx); n != 1 {
		t.Errorf("%d rows with a null cost, want the voice row's 1", n)
	}
	rows, err := s.UsageByModel(ctx, store.UsageFilter{UserID: a})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*float64{"m/paid": new(0.005), "m/free": new(0.0), "eleven_v3": nil}
	for _, r := range rows {
		w, ok := want[r.Key]
		if !ok || (w == nil) != (r.Cost == nil) || (w != nil && math.Abs(*w-*r.Cost) > 1e-12) {
			t.Errorf("%s costs %v, want %v", r.Key, r.Cost, w)
		}
	}
	if tot := store.Sum(rows); tot.Cost == nil || math.Abs(*tot.Cost-0.005) > 1e-12 {
		t.Errorf("total cost %v, want 0.005 (no hold)", tot.Cost)
	}
}
