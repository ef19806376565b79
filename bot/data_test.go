//go:build integration

package bot_test

import (
	"context"
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/usagelog"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/store"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// exportOf runs /data export as userID and returns the file it was sent
// privately, parsed, and the file's text.
func (w *world) exportOf(t *testing.T, userID string) (map[string]any, string) {
	t.Helper()
	ic := w.slash(userID, "data", "export")
	fus := w.Discord.FollowUps(ic.Token)
	if len(fus) != 1 || !fus[0].Ephemeral() || len(fus[0].Attachments) != 1 {
		t.Fatalf("/data export sent %+v, want one private follow-up with a file; told %q", fus, w.ephemeralText(t, ic))
	}
	raw := string(fus[0].Attachments[0].Data)
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("the export is not JSON: %v\n%s", err, raw)
	}
	return doc, raw
}

func section(doc map[string]any, name string) []map[string]any {
	var out []map[string]any
	for _, r := range asList(doc[name]) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// The "done when": /data export shows everything held about the
// caller (never a key, sealed or not, nor an embedding, nor another user's
// rows); /data delete, confirmed, runs DeleteUserData, which removes it all,
// keys included, and keeps usage only as anonymous totals; a second run
// deletes nothing; the export afterwards shows nothing left.
func TestDataExportDeleteExport(t *testing.T) {
	w, st, p, a, b := newAliceAndBob(t)
	ctx := context.Background()
	if err := st.SetTimezone(ctx, alice, "alice", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	sealed, err := w.Keys.Seal(aliceKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutKey(ctx, a, "openrouter", sealed); err != nil {
		t.Fatal(err)
	}
	w.DB.UserPersonalityConfig.Create().SetUserID(a).SetPersonalityID(p.ID).SetModel("openai/gpt-4o").ExecX(ctx)
	owned := w.DB.Personality.Create().SetName("alices-own").SetOwnerID(a).SaveX(ctx)
	for i, uid := range []uuid.UUID{a, a, b} {
		var cost *float64 // alice's first call reported $0.0042, her second nothing
		if i == 0 {
			cost = new(0.0042)
		}
		if _, err := st.AddUsage(ctx, store.Usage{UserID: uid, PersonalityID: &p.ID, Provider: "openrouter", Model: "m", In: 10, Out: 5, Total: 15, Kind: store.UsageText, CostUSD: cost}); err != nil {
			t.Fatal(err)
		}
	}
	const dm = "910000000000000001"
	// who is the user of a user turn, the user answered of the personality's.
	turn := func(channel string, guild *string, who *uuid.UUID, role, content string) {
		c := w.DB.ConversationHistory.Create().SetChannelID(channel).SetNillableGuildID(guild).SetPersonalityID(p.ID).
			SetRole(role).SetContent(content)
		if role == "user" {
			c.SetNillableUserID(who)
		} else {
			c.SetNillableAnsweredUserID(who)
		}
		c.ExecX(ctx)
	}
	g := guildID
	turn(general, &g, &a, "user", "alice in general")
	turn(general, &g, &a, "assistant", "kerach answers alice in general")
	turn(dm, nil, &a, "user", "alice in her DMs")
	turn(dm, nil, nil, "assistant", "kerach answers alice's DM")
	turn(general, &g, &b, "user", "bob in general")
	turn(general, &g, &b, "assistant", "kerach answers bob in general")
	w.remember(t, p.ID, a, 3, "alice's memory")
	w.remember(t, p.ID, b, 1, "bob's memory")
	totalBefore, _ := st.UsageTotal(ctx, store.UsageFilter{})

	doc, raw := w.exportOf(t, alice)
	for _, never := range []string{sealed.Content, sealed.IV, sealed.Tag, aliceKey, "embedding\"", "signature", "bob"} {
		if strings.Contains(raw, never) {
			t.Errorf("the export holds %q:\n%s", never, raw)
		}
	}
	if prof, _ := doc["profile"].(map[string]any); prof["discord_id"] != alice || prof["timezone"] != "Europe/Paris" {
		t.Errorf("profile %v", doc["profile"])
	}
	want := map[string]int{"api_keys": 1, "personality_configs": 1, "owned_personalities": 1, "usage": 2, "conversation_turns": 4, "memories": 3}
	for name, n := range want {
		if got := len(section(doc, name)); got != n {
			t.Errorf("%s: %d rows, want %d", name, got, n)
		}
	}
	if k := section(doc, "api_keys"); len(k) == 1 && (k[0]["provider"] != "openrouter" || k[0]["active"] != true) {
		t.Errorf("key metadata %v", k[0])
	}
	costs := map[any]bool{}
	for _, u := range section(doc, "usage") {
		costs[u["cost_usd"]] = true
	}
	if !costs[0.0042] || !costs[nil] {
		t.Errorf("usage rows' cost_usd %v, want 0.0042 and null", costs)
	}
	if m := section(doc, "memories"); len(m) == 3 && (m[0]["personality"] != "cold-kerach" || m[0]["content"] != "alice's memory 0") {
		t.Errorf("memory %v", m[0])
	}

	// /data delete asks first; confirmed, the workflow runs and says what went.
	ask, buttons := w.answer(t, w.slash(alice, "data", "delete"))
	if len(buttons) != 2 || !strings.Contains(ask, "cannot be undone") || !strings.Contains(ask, "incognito included") {
		t.Fatalf("asked %q with %v", ask, buttons)
	}
	mustContainAnswer(t, w, w.press(alice, buttons[1]), "Nothing was deleted")
	if !w.DB.User.Query().ExistX(ctx) || w.DB.UserAPIKey.Query().CountX(ctx) != 1 {
		t.Fatal("cancel deleted something")
	}
	confirmed := w.press(alice, buttons[0])
	mustContainAnswer(t, w, confirmed, "Deleting everything")
	fus := w.Discord.FollowUps(confirmed.Token)
	if len(fus) != 1 || !fus[0].Ephemeral() {
		t.Fatalf("after the confirmation: %+v", fus)
	}
	mustContain(t, fus[0].Content, "everything held about you is deleted (10 rows)")
	var res workflows.DeleteUserDataResult
	if err := w.Client.GetWorkflow(ctx, workflows.DeleteUserDataID(alice), "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	wantCounts := map[string]int{"memories": 3, "conversation_history": 4, "user_personality_configs": 1, "user_api_keys": 1, "usage_logs": 2, "users": 1}
	if res.Outcome != "deleted" || !maps.Equal(res.Counts, wantCounts) {
		t.Fatalf("DeleteUserData returned %+v, want counts %v", res, wantCounts)
	}
	if u, _ := st.User(ctx, alice); u != nil || w.DB.UserAPIKey.Query().CountX(ctx) != 0 {
		t.Fatal("alice's row or key is still there")
	}
	if n := w.DB.UsageLog.Query().Where(usagelog.UserIDIsNil()).CountX(ctx); n != 2 {
		t.Errorf("%d anonymous usage rows, want alice's 2", n)
	}
	// The cost stays in the totals too (Cost is a pointer: compare values).
	if after, _ := st.UsageTotal(ctx, store.UsageFilter{}); !reflect.DeepEqual(after, totalBefore) {
		t.Errorf("usage totals went from %+v to %+v", totalBefore, after)
	}
	// Bob's rows, Kerach's answer to him and Alice's creation stay.
	if w.DB.ConversationHistory.Query().Where(conversationhistory.UserID(b)).CountX(ctx) != 1 ||
		w.DB.ConversationHistory.Query().Where(conversationhistory.ContentEQ("kerach answers bob in general")).CountX(ctx) != 1 ||
		w.DB.UsageLog.Query().Where(usagelog.UserID(b)).CountX(ctx) != 1 {
		t.Error("DeleteUserData touched rows that are not alice's")
	}
	if o := w.DB.Personality.Query().Where(personality.ID(owned.ID)).OnlyX(ctx); o.OwnerID != nil {
		t.Errorf("alice's personality still has owner %v", o.OwnerID)
	}

	// Again: nothing to delete, and a success.
	run, err := w.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.DeleteUserDataID(alice), TaskQueue: w.TaskQueue},
		workflows.DeleteUserDataName, workflows.DeleteUserDataInput{DiscordUserID: alice})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, &res); err != nil || res.Outcome != "deleted" || !maps.Equal(res.Counts, map[string]int{
		"memories": 0, "conversation_history": 0, "user_personality_configs": 0, "user_api_keys": 0, "usage_logs": 0, "users": 0}) {
		t.Fatalf("second run: %+v, %v", res, err)
	}

	doc, raw = w.exportOf(t, alice)
	if doc["profile"] != nil {
		t.Errorf("profile after delete: %v", doc["profile"])
	}
	for name := range want {
		if got := len(section(doc, name)); got != 0 {
			t.Errorf("%s after delete: %d rows\n%s", name, got, raw)
		}
	}
}

// Through the real reply path: what alice said to Kerach in #general and in
// her DMs, and Kerach's answers to her, are in her export; after /data
// delete the next request to the model carries no turn of that
// conversation, while bob's turns with Kerach in #general stay.
func TestDataDeleteLeavesTheModelNoTurn(t *testing.T) {
	w, _, p, _, b := newAliceAndBob(t)
	ctx := context.Background()
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set: %q", told)
	}
	g := guildID
	w.DB.ConversationHistory.Create().SetChannelID(general).SetGuildID(g).SetPersonalityID(p.ID).
		SetUserID(b).SetRole("user").SetContent("bob says hello").ExecX(ctx)
	w.DB.ConversationHistory.Create().SetChannelID(general).SetGuildID(g).SetPersonalityID(p.ID).
		SetAnsweredUserID(b).SetRole("assistant").SetContent("kerach greets bob").ExecX(ctx)
	w.reply(t, alice, "@kerach my cat is called Pixel", workflows.ReplyReplied)
	w.reply(t, alice, "@kerach she likes tuna", workflows.ReplyReplied)

	_, raw := w.exportOf(t, alice)
	if n := strings.Count(raw, "Echo from"); n != 2 {
		t.Errorf("the export holds %d of Kerach's 2 answers to alice:\n%s", n, raw)
	}
	_, buttons := w.answer(t, w.slash(alice, "data", "delete"))
	w.press(alice, buttons[0])
	var res workflows.DeleteUserDataResult
	testwait.Until(t, "DeleteUserData to start", func() bool {
		_, err := w.Client.DescribeWorkflowExecution(ctx, workflows.DeleteUserDataID(alice), "")
		return err == nil
	})
	if err := w.Client.GetWorkflow(ctx, workflows.DeleteUserDataID(alice), "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Counts["conversation_history"] != 4 {
		t.Errorf("DeleteUserData cleared %d turns, want alice's 2 and Kerach's 2 answers", res.Counts["conversation_history"])
	}

	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set again: %q", told)
	}
	before := len(w.OpenRouter.Calls())
	m := w.say(alice, general, guildID, "@kerach hello again")
	saw := w.modelSaw(t, m.ID, before)
	for _, old := range []string{"Pixel", "tuna"} {
		if strings.Contains(saw, old) {
			t.Errorf("after /data delete the model was given %q:\n%s", old, saw)
		}
	}
	if !strings.Contains(saw, "bob says hello") || !strings.Contains(saw, "kerach greets bob") {
		t.Errorf("bob's conversation is gone too:\n%s", saw)
	}
}
