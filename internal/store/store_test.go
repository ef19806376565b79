//go:build integration

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/internal/access"
	"github.com/tzurot/tzurot/internal/deliverykey"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/testdb"
)

const (
	alice = "100000000000000001"
	bob   = "100000000000000002"
	carol = "100000000000000003" // no row
)

// TestMain stops the test cluster when the tests end.
func TestMain(m *testing.M) { testdb.Main(m) }

func fixture(t *testing.T) (*ent.Client, *store.Store, context.Context) {
	t.Helper()
	db, _ := testdb.Client(t)
	return db, store.New(db), context.Background()
}

// A user without a row is nil, not an error: /usage and /timezone answer
// them with the defaults.
func TestUsers(t *testing.T) {
	_, s, ctx := fixture(t)
	if u, err := s.User(ctx, carol); err != nil || u != nil {
		t.Fatalf("User(no row) = %v, %v; want nil, nil", u, err)
	}
	id, err := s.UpsertUser(ctx, alice, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetTimezone(ctx, alice, "alice2", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	again, err := s.UpsertUser(ctx, alice, "alice3")
	if err != nil || again != id {
		t.Fatalf("UpsertUser twice gave %s then %s (%v)", id, again, err)
	}
	u, err := s.User(ctx, alice)
	if err != nil || u == nil || u.Timezone != "Europe/Paris" || u.Username == nil || *u.Username != "alice3" {
		t.Fatalf("User(alice) = %+v, %v", u, err)
	}
}

// Usage sums leave out the limit checks' holds, and filter by user, kind
// and time.
func TestUsageSums(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	b, _ := s.UpsertUser(ctx, bob, "bob")
	now := time.Now()
	add := func(user uuid.UUID, provider, model string, total int, at time.Time) {
		db.UsageLog.Create().SetUserID(user).SetProvider(provider).SetModel(model).SetTokensIn(total / 2).
			SetTokensOut(total - total/2).SetTokensTotal(total).SetRequestType(store.UsageText).SetTimestamp(at).
			ExecX(ctx)
	}
	add(a, "openrouter", "m/one", 100, now.Add(-time.Hour))
	add(a, "openrouter", "m/two", 300, now.Add(-time.Hour))
	add(a, "openrouter", "m/one", 1000, now.Add(-48*time.Hour))
	add(a, store.HoldProvider, "", 5000, now)
	add(b, "openrouter", "m/one", 50, now.Add(-time.Hour))
	db.UsageLog.Create().SetUserID(a).SetProvider("openrouter").SetModel("img").SetTokensOut(1000).SetTokensTotal(1000).
		SetRequestType(store.UsageImage).SetTimestamp(now.Add(-time.Minute)).ExecX(ctx)

	day := now.Add(-24 * time.Hour)
	rows, err := s.UsageByModel(ctx, store.UsageFilter{UserID: a, Since: day})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].Key != "img" || rows[1].Key != "m/two" || rows[2].Key != "m/one" || rows[2].Total != 100 {
		t.Errorf("alice's last day by model = %+v; want img 1000, m/two 300, m/one 100 (no hold, nothing older)", rows)
	}
	if tot, err := s.UsageTotal(ctx, store.UsageFilter{UserID: a, Kind: store.UsageText, Since: day}); err != nil || tot.Total != 400 || tot.Requests != 2 {
		t.Errorf("alice's text in the last day = %+v, %v; want 2 requests, 400 tokens", tot, err)
	}
	top, err := s.TopUsers(ctx, store.UsageFilter{Since: day}, 1)
	if err != nil || len(top) != 1 || top[0].Key != alice || top[0].Total != 1400 {
		t.Errorf("top user = %+v, %v; want alice with 1400", top, err)
	}
	if n, err := s.DistinctUsers(ctx, store.UsageFilter{Since: now.Add(-time.Minute * 30)}); err != nil || n != 1 {
		t.Errorf("users in the last 30 minutes = %d, %v; want 1 (alice's image; her hold is not usage)", n, err)
	}
}

// Usable and Suggest apply access's rule: another owner's private
// personality is neither usable nor suggested, except to the privileged.
func TestPersonalitiesFollowAccess(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	if _, err := s.UpsertUser(ctx, bob, "bob"); err != nil {
		t.Fatal(err)
	}
	secret := db.Personality.Create().SetName("alice-secret").SetDisplayName("Secret").SetOwnerID(a).SetIsPublic(false).SaveX(ctx)
	open := db.Personality.Create().SetName("alice-open").SetDisplayName("Open").SetOwnerID(a).SetIsPublic(true).SaveX(ctx)

	asAlice, _ := s.Speaker(ctx, alice, "")
	asBob, _ := s.Speaker(ctx, bob, "")
	asOperator, _ := s.Speaker(ctx, carol, carol)
	if _, ok := s.Usable(ctx, asBob, secret.ID); ok {
		t.Error("Bob may use Alice's private personality")
	}
	if _, ok := s.Usable(ctx, asAlice, secret.ID); !ok {
		t.Error("Alice may not use her own private personality")
	}
	if _, err := s.Resolve(ctx, asBob, "alice-secret"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("Bob resolves alice-secret: %v; want access.ErrNotFound", err)
	}
	for _, c := range []struct {
		who  access.Speaker
		want int
	}{{asBob, 1}, {asAlice, 2}, {asOperator, 2}} {
		ps, err := s.Suggest(ctx, c.who, "alice", 25)
		if err != nil || len(ps) != c.want {
			t.Errorf("%s is suggested %d personalities for alice (%v); want %d", c.who.DiscordID, len(ps), err, c.want)
		}
	}
	if ps, _ := s.Suggest(ctx, asBob, "", 25); len(ps) != 1 || ps[0].ID != open.ID {
		t.Errorf("Bob's suggestions for nothing typed: %v; want alice-open only", ps)
	}
}

func TestCreatePersonalityAndAliases(t *testing.T) {
	_, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	prompt := "You are Kerach."
	p, err := s.CreatePersonality(ctx, store.NewPersonality{Name: "kerach", DisplayName: "Kerach", Model: "x/y", Owner: a,
		Fields: store.PersonalityFields{SystemPrompt: &prompt}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePersonality(ctx, store.NewPersonality{Name: "kerach", DisplayName: "Other", Model: "x/y", Owner: a}); !errors.Is(err, store.ErrNameTaken) {
		t.Errorf("a second kerach: %v; want ErrNameTaken", err)
	}
	if c, err := s.PersonalityConfig(ctx, p.ID); err != nil || c == nil || c.Model != "x/y" {
		t.Errorf("the new personality's model settings: %+v, %v", c, err)
	}
	if err := s.AddAlias(ctx, p.ID, "Cold One"); err != nil {
		t.Fatal(err)
	}
	if al, err := s.Alias(ctx, p.ID, "COLD ONE"); err != nil || al == nil {
		t.Errorf("Alias in another case: %v, %v", al, err)
	}
	if n, err := s.RemoveAlias(ctx, p.ID, "cold one"); err != nil || n != 1 {
		t.Errorf("RemoveAlias = %d, %v", n, err)
	}
	public := false
	if got, err := s.UpdatePersonality(ctx, p.ID, store.PersonalityChange{Public: &public}); err != nil || got.IsPublic || got.SystemPrompt == nil {
		t.Errorf("UpdatePersonality(public=false) = %+v, %v; the prompt must stay", got, err)
	}
}

// SetUserConfig changes only what is given: params alone keep the model.
func TestUserConfig(t *testing.T) {
	db, s, ctx := fixture(t)
	a, _ := s.UpsertUser(ctx, alice, "alice")
	p := db.Personality.Create().SetName("kerach").SaveX(ctx)
	if err := s.SetUserConfig(ctx, a, p.ID, store.Settings{Model: "x/y"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserConfig(ctx, a, p.ID, store.Settings{Params: map[string]any{"temperature": 0.5}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.UserConfig(ctx, alice, p.ID)
	if err != nil || c == nil || c.Model == nil || *c.Model != "x/y" || c.AdvancedParameters["temperature"] != 0.5 {
		t.Fatalf("UserConfig = %+v, %v; want model x/y and temperature 0.5", c, err)
	}
	if n, err := s.ResetUserConfig(ctx, alice, p.ID); err != nil || n != 1 {
		t.Errorf("ResetUserConfig = %d, %v", n, err)
	}
	if c, err := s.UserConfig(ctx, alice, p.ID); err != nil || c != nil {
		t.Errorf("after reset: %+v, %v", c, err)
	}
}

// A reply's later parts are found through deliveries, and the typing
// indicator's Posted sees only a post made, not one begun.
func TestHistoryAndDeliveries(t *testing.T) {
	db, s, ctx := fixture(t)
	p := db.Personality.Create().SetName("kerach").SaveX(ctx)
	db.ConversationHistory.Create().SetPersonalityID(p.ID).SetChannelID("9").SetRole("user").SetContent("hi").
		SetDiscordMessageID("500").ExecX(ctx)
	db.ConversationHistory.Create().SetPersonalityID(p.ID).SetChannelID("9").SetRole("assistant").SetContent("hello").
		SetDiscordMessageID("501").ExecX(ctx)
	reply := deliverykey.New("reply/500", deliverykey.Reply)
	db.Delivery.Create().SetKey(deliverykey.Part(reply, 1)).SetChannelID("9").SetDiscordMessageID("502").ExecX(ctx)
	db.Delivery.Create().SetKey(deliverykey.Part(reply, 0)).SetChannelID("9").SetDiscordMessageID("").ExecX(ctx)

	if id, ok := s.Answered(ctx, "501"); !ok || id != p.ID {
		t.Errorf("Answered(501) = %s, %v", id, ok)
	}
	if _, ok := s.Answered(ctx, "500"); ok {
		t.Error("the user's own message counts as the personality's reply")
	}
	if key, _, ok, err := s.DeliveryOf(ctx, "502"); err != nil || !ok || key != "reply/500/reply/1" {
		t.Errorf("DeliveryOf(502) = %q, %v, %v", key, ok, err)
	}
	if id, ok := s.AskedOf(ctx, "500"); !ok || id != p.ID {
		t.Errorf("AskedOf(500) = %s, %v", id, ok)
	}
	if id, ok, err := s.LastInChannel(ctx, "9"); err != nil || !ok || id != p.ID {
		t.Errorf("LastInChannel = %s, %v, %v", id, ok, err)
	}
	if _, ok, err := s.LastInChannel(ctx, "10"); err != nil || ok {
		t.Errorf("LastInChannel(empty channel) = %v, %v", ok, err)
	}
	if ok, err := s.Posted(ctx, deliverykey.Part(reply, 0)); err != nil || ok {
		t.Errorf("Posted(part begun, not made) = %v, %v", ok, err)
	}
	if ok, err := s.Posted(ctx, deliverykey.Part(reply, 1)); err != nil || !ok {
		t.Errorf("Posted(part made) = %v, %v", ok, err)
	}
}

// A personality without image settings has none (nil, no error): /imagine
// tells the user who can switch images on.
func TestImageConfig(t *testing.T) {
	db, s, ctx := fixture(t)
	p := db.Personality.Create().SetName("painter").SaveX(ctx)
	if c, err := s.ImageConfig(ctx, p.ID); err != nil || c != nil {
		t.Errorf("no image settings: %+v, %v; want nil, nil", c, err)
	}
	db.ImageConfig.Create().SetPersonalityID(p.ID).SetModel("x/image").SetEnabled(true).ExecX(ctx)
	if c, err := s.ImageConfig(ctx, p.ID); err != nil || c == nil || c.Model != "x/image" || !c.Enabled {
		t.Errorf("image settings: %+v, %v", c, err)
	}
}
