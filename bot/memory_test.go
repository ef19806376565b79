//go:build integration

package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/memory"
	"github.com/tzurot/tzurot/internal/itest"
	mem "github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/store"
)

// press presses a button of an ephemeral message, as userID.
func (w *world) press(userID, customID string) *discordgo.InteractionCreate {
	ic := w.interaction(userID, discordgo.InteractionMessageComponent,
		discordgo.MessageComponentInteractionData{CustomID: customID, ComponentType: discordgo.ButtonComponent})
	w.Bot.HandleInteraction(context.Background(), ic)
	return ic
}

// answer is the content of ic's first response (a new message or, for a
// button, the message it updated) and the custom ids of its buttons.
func (w *world) answer(t *testing.T, ic *discordgo.InteractionCreate) (string, []string) {
	t.Helper()
	resp := w.responses(ic)
	if len(resp) == 0 {
		t.Fatal("no response")
	}
	data, _ := resp[0]["data"].(map[string]any)
	if typ := resp[0]["type"]; typ == float64(4) {
		if f, _ := data["flags"].(float64); int(f)&64 == 0 {
			t.Errorf("response %v is not ephemeral", data["content"])
		}
	} else if typ != float64(7) {
		t.Fatalf("response type %v, want a message (4) or an update (7)", typ)
	}
	content, _ := data["content"].(string)
	var ids []string
	for _, row := range asList(data["components"]) {
		for _, c := range asList(row.(map[string]any)["components"]) {
			ids = append(ids, c.(map[string]any)["custom_id"].(string))
		}
	}
	return content, ids
}

func asList(v any) []any { l, _ := v.([]any); return l }

// remember stores n memories of user with p through the index, oldest first.
func (w *world) remember(t *testing.T, p, user uuid.UUID, n int, what string) {
	t.Helper()
	idx := mem.NewPostgres(w.Activities.SQL, mem.Options{})
	for i := range n {
		if _, err := idx.Add(context.Background(), mem.Memory{PersonalityID: p, UserID: user, Model: "m",
			Content: fmt.Sprintf("%s %d", what, i), Embedding: []float32{1, float32(i)}}); err != nil {
			t.Fatal(err)
		}
	}
}

// newAliceAndBob is a world with Kerach, and Alice and Bob as users.
func newAliceAndBob(t *testing.T) (w *world, st *store.Store, kerach *ent.Personality, a, b uuid.UUID) {
	t.Helper()
	w = newWorld(t, itest.Options{})
	seedKerach(t, w)
	ctx := context.Background()
	st = store.New(w.DB)
	kerach, err := w.Bot.FindPersonality(ctx, "kerach")
	if err != nil {
		t.Fatal(err)
	}
	a, _ = st.UpsertUser(ctx, alice, "alice")
	b, _ = st.UpsertUser(ctx, bob, "bob")
	return w, st, kerach, a, b
}

var shortID = regexp.MustCompile("`([0-9a-f]{8})`")

// /memory list pages through the caller's memories with buttons, never
// another user's; /memory forget removes one of the caller's (not
// another's), or all after a confirm button that a cancel or a timeout
// leaves without effect.
func TestMemoryListAndForget(t *testing.T) {
	w, _, p, a, b := newAliceAndBob(t)
	ctx := context.Background()
	w.remember(t, p.ID, a, 12, "alice likes tea")
	w.remember(t, p.ID, b, 1, "bob's secret")

	first, buttons := w.answer(t, w.slash(alice, "memory", "list", str("personality", "kerach")))
	if got := len(shortID.FindAllString(first, -1)); got != 10 || len(buttons) != 1 || !strings.HasPrefix(buttons[0], "mem:page:") {
		t.Fatalf("first page shows %d memories, buttons %v:\n%s", got, buttons, first)
	}
	if strings.Contains(first, "bob") || !strings.Contains(first, "/memory forget personality:cold-kerach memory:<id>") || !strings.Contains(first, "alice likes tea 11") || !strings.Contains(first, "<t:") {
		t.Fatalf("first page:\n%s", first)
	}
	second, more := w.answer(t, w.press(alice, buttons[0]))
	if got := shortID.FindAllStringSubmatch(second, -1); len(got) != 2 || len(more) != 0 || !strings.Contains(second, "alice likes tea 0") {
		t.Fatalf("second page %q, buttons %v", second, more)
	}
	// Bob pressing Alice's button sees his own memories, never hers.
	if bobs, _ := w.answer(t, w.press(bob, buttons[0])); strings.Contains(bobs, "alice") {
		t.Fatalf("bob saw %q", bobs)
	}

	// One memory, by its short id; Bob's id is not Alice's to forget.
	oldest := shortID.FindAllStringSubmatch(second, -1)[1][1]
	mustContain(t, w.ephemeralText(t, w.slash(alice, "memory", "forget", str("personality", "kerach"), str("memory", oldest))), "has forgotten memory "+oldest)
	bobsID := w.DB.Memory.Query().Where(memory.UserID(b)).OnlyIDX(ctx).String()
	mustContain(t, w.ephemeralText(t, w.slash(alice, "memory", "forget", str("personality", "kerach"), str("memory", bobsID))), "has no memory of you")
	if n := w.DB.Memory.Query().Where(memory.UserID(a)).CountX(ctx); n != 11 {
		t.Fatalf("alice has %d memories after forgetting one, want 11", n)
	}

	// All of them: cancel, then a confirmation pressed too late, do nothing.
	ask, confirm := w.answer(t, w.slash(alice, "memory", "forget", str("personality", "kerach")))
	if len(confirm) != 2 || !strings.Contains(ask, "Forget every memory") || !strings.Contains(ask, "conversation in each channel stays") {
		t.Fatalf("asked %q with %v", ask, confirm)
	}
	mustContainAnswer(t, w, w.press(alice, confirm[1]), "Nothing was forgotten")
	w.now = w.now.Add(6 * time.Minute)
	mustContainAnswer(t, w, w.press(alice, confirm[0]), "expired")
	if n := w.DB.Memory.Query().Where(memory.UserID(a)).CountX(ctx); n != 11 {
		t.Fatalf("alice has %d memories after cancel and timeout, want 11", n)
	}
	_, confirm = w.answer(t, w.slash(alice, "memory", "forget", str("personality", "kerach")))
	mustContainAnswer(t, w, w.press(alice, confirm[0]), "forgotten its memories of you (11 memories). The recent conversation in each channel stays")
	if n := w.DB.Memory.Query().Where(memory.UserID(a)).CountX(ctx); n != 0 {
		t.Fatalf("alice has %d memories left", n)
	}
	if n := w.DB.Memory.Query().Where(memory.UserID(b)).CountX(ctx); n != 1 {
		t.Fatalf("bob has %d memories, want his 1", n)
	}
	mustContainAnswer(t, w, w.slash(alice, "memory", "list", str("personality", "kerach")), "remembers nothing about you")
}

func mustContainAnswer(t *testing.T, w *world, ic *discordgo.InteractionCreate, want string) {
	t.Helper()
	got, _ := w.answer(t, ic)
	mustContain(t, got, want)
}

// A personality the caller may not see is missing for /memory, as for
// every command (internal/access).
func TestMemoryOfAPrivatePersonalityIsMissing(t *testing.T) {
	w := newWorld(t, itest.Options{})
	ctx := context.Background()
	st := store.New(w.DB)
	owner, _ := st.UpsertUser(ctx, bob, "bob")
	p := w.DB.Personality.Create().SetName("bobs-own").SetOwnerID(owner).SetIsPublic(false).SaveX(ctx)
	a, _ := st.UpsertUser(ctx, alice, "alice")
	w.remember(t, p.ID, a, 1, "said to a private one")
	for _, sub := range []string{"list", "forget"} {
		mustContain(t, w.ephemeralText(t, w.slash(alice, "memory", sub, str("personality", "bobs-own"))), "No personality is called “bobs-own”.")
	}
	// A page button naming it by id does not reach it either.
	mustContain(t, w.ephemeralText(t, w.press(alice, "mem:page:"+p.ID.String()+":x")), "no longer there")
}

// /memory incognito stores the flag the memory writer reads
// (store.Incognito), for the caller only.
func TestMemoryIncognito(t *testing.T) {
	w := newWorld(t, itest.Options{})
	ctx := context.Background()
	st := store.New(w.DB)
	incognito := func(who string) bool {
		on, err := st.Incognito(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	if incognito(alice) {
		t.Fatal("incognito before anything was said")
	}
	mustContain(t, w.ephemeralText(t, w.slash(alice, "memory", "incognito", boolOpt("enabled", true))), "Incognito is on")
	if !incognito(alice) || incognito(bob) {
		t.Fatalf("alice %v bob %v after alice turned it on", incognito(alice), incognito(bob))
	}
	mustContain(t, w.ephemeralText(t, w.slash(alice, "memory", "incognito", boolOpt("enabled", false))), "Incognito is off")
	if incognito(alice) {
		t.Fatal("still incognito after turning it off")
	}
}
