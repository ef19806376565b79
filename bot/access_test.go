//go:build integration

package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent"
	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

// The README's "Who may do what": users use and see public personalities;
// owners also their private ones, which they alone (with superusers and the
// operator) edit, delete and alias; superusers and the operator everything.
const (
	superuserID = "100000000000000005"
	operatorID  = "100000000000000006"
	secretSauce = "SECRET-PROMPT-OF-CAROL"
)

type accessWorld struct {
	*world
	pub, priv *ent.Personality
	// history: a message of each personality in #general, to reply to.
	msgOf map[uuid.UUID]string
}

// newAccessWorld: Carol owns a public and a private personality, each with
// an alias and a display name; Dave is a superuser; operatorID is
// BOT_OWNER_DISCORD_ID (for the bot and the worker's activities alike).
func newAccessWorld(t *testing.T) *accessWorld {
	w := guestWorld(t)
	w.Bot.Config.BotOwnerDiscordID = operatorID
	w.Activities.OperatorDiscordID = operatorID
	ctx := context.Background()
	carolRow := w.DB.User.Create().SetDiscordID(carol).SetUsername("carol").SaveX(ctx)
	w.DB.User.Create().SetDiscordID(superuserID).SetUsername("dave").SetIsSuperuser(true).ExecX(ctx)
	mk := func(name, display, alias string, public bool) *ent.Personality {
		p := w.DB.Personality.Create().SetName(name).SetDisplayName(display).SetOwnerID(carolRow.ID).
			SetIsPublic(public).SetSystemPrompt(secretSauce + " " + name).SaveX(ctx)
		w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("openrouter/free").ExecX(ctx)
		w.DB.PersonalityAlias.Create().SetPersonalityID(p.ID).SetAlias(alias).ExecX(ctx)
		return p
	}
	aw := &accessWorld{world: w, msgOf: map[uuid.UUID]string{}}
	aw.pub = mk("carol-pub", "Pubby", "pubalias", true)
	aw.priv = mk("carol-priv", "Privy", "privalias", false)
	for _, p := range []*ent.Personality{aw.pub, aw.priv} {
		id := nextID()
		w.DB.ConversationHistory.Create().SetPersonalityID(p.ID).SetChannelID(general).
			SetRole("assistant").SetContent("hello from " + p.Name).SetDiscordMessageID(id).ExecX(ctx)
		aw.msgOf[p.ID] = id
	}
	return aw
}

// speakers of the matrix, and whether each may use a private personality of Carol's.
var speakers = []struct {
	who, id     string
	usesPrivate bool
}{
	{"owner", carol, true},
	{"another user", bob, false},
	{"a user with no row", "100000000000000042", false},
	{"superuser", superuserID, true},
	{"operator", operatorID, true},
}

// Mention by name, alias and display name, and a reply to the
// personality's message: each reaches the personality exactly when the
// rule allows, for every speaker.
func TestWhoMayUseAPersonalityRoutes(t *testing.T) {
	w := newAccessWorld(t)
	ctx := context.Background()
	w.Bot.KeepPersonalityNames(0)
	for _, sp := range speakers {
		for _, p := range []*ent.Personality{w.pub, w.priv} {
			allowed := p.IsPublic || sp.usesPrivate
			ways := map[string]*discordgo.Message{
				"mention by name":         {Content: "@" + p.Name + " hi"},
				"mention by alias":        {Content: "hey @" + strings.TrimPrefix(p.Name, "carol-") + "alias"},
				"mention by display name": {Content: "@" + *p.DisplayName + ", hi"},
				"reply to its message": {Content: "and then?",
					MessageReference: &discordgo.MessageReference{MessageID: w.msgOf[p.ID], ChannelID: general}},
			}
			for way, m := range ways {
				m.ID, m.ChannelID, m.GuildID = nextID(), general, guildID
				m.Author = &discordgo.User{ID: sp.id, Username: sp.who}
				ids, err := w.Bot.RouteTo(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				reached := len(ids) == 1 && ids[0] == p.ID
				if reached != allowed || (!allowed && len(ids) != 0) {
					t.Errorf("%s, %s (public %v), %s: routed to %v, want allowed=%v", sp.who, p.Name, p.IsPublic, way, ids, allowed)
				}
			}
		}
	}
}

// End to end through the Discord stand-in and the real workflow: a private
// personality answers its owner, the superuser and the operator, and a
// stranger's mention produces no reply and no provider call carrying its
// system prompt.
func TestPrivatePersonalityAnswersOnlyWhomItMay(t *testing.T) {
	w := newAccessWorld(t)
	want := 0
	for _, sp := range speakers {
		w.say(sp.id, general, guildID, fmt.Sprintf("@privy hello from %s", sp.id))
		if sp.usesPrivate {
			want++
		}
	}
	testwait.Until(t, "the allowed replies", func() bool { return len(w.posts(general)) >= want })
	// A later public reply to sync on: the refused mentions started nothing.
	w.say(bob, general, guildID, "@pubby sync")
	testwait.Until(t, "the sync reply", func() bool { return len(w.posts(general)) >= want+1 })
	w.awaitReplies(t) // each streamed reply whole before its text is read
	if n := len(w.posts(general)); n != want+1 {
		t.Fatalf("%d posts, want %d", n, want+1)
	}
	for _, sp := range speakers {
		got := 0
		for _, m := range w.posts(general) {
			if strings.Contains(m.Content, "hello from "+sp.id) {
				got++
			}
		}
		if sp.usesPrivate != (got == 1) {
			t.Errorf("%s: %d replies", sp.who, got)
		}
	}
	for _, c := range w.OpenRouter.Calls() {
		body := string(c.Body)
		if strings.Contains(body, "carol-priv") && (strings.Contains(body, "hello from "+bob) || strings.Contains(body, "hello from 100000000000000042")) {
			t.Errorf("a stranger's request carried the private system prompt: %s", body)
		}
	}
}

// The workflow re-checks: GenerateReply started by hand (as with `temporal
// workflow start`) for another user's private personality, by name, alias,
// display name or id, ends refused with nothing posted and no provider call.
func TestGenerateReplyByHandRefusesAPrivatePersonality(t *testing.T) {
	w := newAccessWorld(t)
	ctx := context.Background()
	run := func(user, ref string) workflows.GenerateReplyResult {
		t.Helper()
		id := nextID()
		r, err := w.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.GenerateReplyID(id), TaskQueue: w.TaskQueue},
			workflows.GenerateReplyName, workflows.GenerateReplyInput{
				RequestID: id, DiscordUserID: user, Username: "x", Personality: ref,
				ChannelID: general, MessageID: id, Content: "by hand " + id,
			})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.GenerateReplyResult
		if err := r.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	before := len(w.OpenRouter.Calls())
	for _, ref := range []string{"carol-priv", "privalias", "Privy", w.priv.ID.String()} {
		for _, user := range []string{bob, "100000000000000042"} {
			if res := run(user, ref); res.Outcome != workflows.ReplyFailed || res.DiscordMessageID != "" {
				t.Errorf("%s by %s: %+v, want a refusal", ref, user, res)
			}
		}
	}
	if n := len(w.OpenRouter.Calls()) - before; n != 0 || len(w.posts(general)) != 0 {
		t.Fatalf("%d provider calls and %d posts for refused requests", n, len(w.posts(general)))
	}
	for _, user := range []string{carol, superuserID, operatorID} {
		if res := run(user, "privalias"); res.Outcome != workflows.ReplyReplied {
			t.Errorf("%s: %+v, want a reply", user, res)
		}
	}
}

// /personality view, edit, delete, alias add, /config view and
// autocomplete follow the same rule (the README's table), and a private personality is "missing" for those
// who may not see it.
func TestWhoMayUseAPersonalitySlashCommands(t *testing.T) {
	w := newAccessWorld(t)
	for _, sp := range speakers {
		for _, ref := range []string{"carol-priv", "PRIVALIAS", "Privy"} {
			view := w.told(t, sp.id, "view", str("name", ref))
			cfg := w.ephemeralText(t, w.slash(sp.id, "config", "view", str("personality", ref)))
			if sp.usesPrivate {
				mustContain(t, view, "**Privy** (`carol-priv`)")
				mustContain(t, cfg, "Privy")
			} else {
				mustContain(t, view, "No personality is called “"+ref+"”.")
				mustContain(t, cfg, "No personality is called “"+ref+"”.")
			}
		}
		edit := w.told(t, sp.id, "edit", str("name", "privy"), str("error_message", "*"+sp.who+"*"))
		pubEdit := w.told(t, sp.id, "edit", str("name", "pubby"), str("error_message", "*"+sp.who+"*"))
		switch {
		case sp.usesPrivate:
			mustContain(t, edit, "Saved")
			mustContain(t, pubEdit, "Saved")
		default:
			mustContain(t, edit, "No personality is called “privy”.")
			mustContain(t, pubEdit, "Only the owner of Pubby or a superuser can edit it.")
		}
		// Aliases and delete, on a private one of Carol's made for this speaker
		// and on her public one.
		ctx := context.Background()
		doomed := w.DB.Personality.Create().SetName("doomed-" + sp.id[len(sp.id)-2:]).SetDisplayName("Doomed").
			SetOwnerID(*w.priv.OwnerID).SetIsPublic(false).SaveX(ctx)
		aliasAdd := w.told(t, sp.id, "alias add", str("name", doomed.Name), str("alias", "doom-"+sp.id[len(sp.id)-2:]))
		pubAlias := w.told(t, sp.id, "alias add", str("name", "carol-pub"), str("alias", "pub-"+sp.id[len(sp.id)-2:]))
		del := w.told(t, sp.id, "delete", str("name", doomed.Name))
		if sp.usesPrivate {
			mustContain(t, aliasAdd, "Doomed now also answers to @doom-")
			mustContain(t, pubAlias, "Pubby now also answers to @pub-")
			mustContain(t, del, "is deleted")
		} else {
			mustContain(t, aliasAdd, "No personality is called “"+doomed.Name+"”.")
			mustContain(t, pubAlias, "Only the owner of Pubby or a superuser can change its aliases.")
			mustContain(t, del, "No personality is called “"+doomed.Name+"”.")
		}
		if gone := !w.DB.Personality.Query().Where(personality.ID(doomed.ID)).ExistX(ctx); gone != sp.usesPrivate {
			t.Errorf("%s: deleted %v", sp.who, gone)
		}
		choices := w.personalityChoices(t, sp.id, "view", focused("name", "carol"))
		if _, ok := choices["carol-priv (Privy)"]; ok != sp.usesPrivate {
			t.Errorf("%s: autocomplete %v", sp.who, choices)
		}
		if _, ok := choices["carol-pub (Pubby)"]; !ok {
			t.Errorf("%s: autocomplete %v lacks the public one", sp.who, choices)
		}
	}
}

// Names cannot be hijacked: no alias, name or display name that would
// shadow another owner's personality, no reserved word, and no refusal
// naming a private personality.
func TestNamesCannotBeHijacked(t *testing.T) {
	w := newAccessWorld(t)
	mustContain(t, w.told(t, alice, "create", str("name", "alice-lilith"), str("display_name", "Lilith")), "Created")
	mustContain(t, w.told(t, bob, "create", str("name", "sable"), str("display_name", "Sable")), "Created")
	cases := []struct {
		name, user, sub string
		opts            []*discordgo.ApplicationCommandInteractionDataOption
		want            string
	}{
		{"an alias equal to another owner's display name", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "Lilith")}, "The alias “Lilith” is already taken by alice-lilith."},
		{"in any case", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "LILITH")}, "already taken by alice-lilith"},
		{"an alias equal to another's name", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "Alice-Lilith")}, "already taken by alice-lilith"},
		{"a private one's alias is taken, unnamed", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "privalias")}, "The alias “privalias” is already taken."},
		{"a private one's display name too", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "privy")}, "The alias “privy” is already taken."},
		{"a name equal to another owner's display name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "lilith"), str("display_name", "Mine")}, "The name “lilith” is already taken by alice-lilith; choose another."},
		{"a name equal to a private alias, unnamed", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "privalias"), str("display_name", "Mine")}, "The name “privalias” is already taken; choose another."},
		{"a display name equal to another's name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "bobs"), str("display_name", "Alice-Lilith")}, "The display name “Alice-Lilith” is already taken by alice-lilith; choose another."},
		{"a display name edited to another's alias, unnamed", bob, "edit", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("display_name", "PrivAlias")}, "The display name “PrivAlias” is already taken; choose another."},
		{"a display name equal to another owner's display name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "bobs-lilith"), str("display_name", "Lilith")}, "The display name “Lilith” is already taken by alice-lilith; choose another."},
		{"an edit to another owner's display name", bob, "edit", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("display_name", "lilith")}, "The display name “lilith” is already taken by alice-lilith; choose another."},
		{"a display name extending another owner's", bob, "edit", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("display_name", "Lilith please")}, "The display name “Lilith please” is already taken by alice-lilith; choose another."},
		{"an alias extending another owner's display name", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "Lilith please")}, "The alias “Lilith please” is already taken by alice-lilith."},
		{"an alias extending a private one's display name, unnamed", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "Privy please")}, "The alias “Privy please” is already taken."},
		{"an alias ending in punctuation", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "Sable,")}, "“Sable,” cannot be an alias: it ends in"},
		{"an alias like a Discord id", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "80351110224678912")}, "cannot be an alias: all digits"},
		{"a name like a Discord id", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "80351110224678912"), str("display_name", "Nelly")}, "cannot be a name: all digits"},
		{"one owner's personalities may share a display name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable-two"), str("display_name", "Sable")}, "Created"},
		{"reserved: name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "everyone"), str("display_name", "E")}, "“everyone” cannot be a name"},
		{"reserved: name here", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "here"), str("display_name", "E")}, "cannot be a name"},
		{"reserved: display name", bob, "create", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "bob-e"), str("display_name", "Everyone")}, "cannot be a display name"},
		{"reserved: display name beginning with one", bob, "edit", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("display_name", "Here we go")}, "cannot be a display name"},
		{"reserved: alias", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "@HERE")}, "cannot be an alias"},
		{"reserved: alias everyone", bob, "alias add", []*discordgo.ApplicationCommandInteractionDataOption{
			str("name", "sable"), str("alias", "everyone")}, "cannot be an alias"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := w.told(t, tc.user, tc.sub, tc.opts...)
			mustContain(t, got, tc.want)
			if strings.Contains(got, "carol-priv") {
				t.Errorf("refusal %q names the private personality", got)
			}
		})
	}
	ctx := context.Background()
	if n := w.DB.PersonalityAlias.Query().CountX(ctx); n != 3 { // kerach's, carol's two
		t.Errorf("%d aliases, want 3", n)
	}
	// @Lilith reaches Alice's, for Bob too: no text of his took it.
	route := func(user, content string) []uuid.UUID {
		ids, err := w.Bot.RouteTo(ctx, &discordgo.Message{ID: nextID(), ChannelID: general, GuildID: guildID, Content: content,
			Author: &discordgo.User{ID: user}})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	aliceLilith := w.DB.Personality.Query().Where(personality.Name("alice-lilith")).OnlyX(ctx)
	w.Bot.KeepPersonalityNames(0)
	for _, who := range []string{carol, bob} {
		for _, msg := range []string{"@Lilith hi", "@Lilith please help", "@Lilith, hi"} {
			if ids := route(who, msg); len(ids) != 1 || ids[0] != aliceLilith.ID {
				t.Errorf("%s's %q reached %v, want alice's", who, msg, ids)
			}
		}
	}
	// A personality called everyone (written before the rule) answers no @everyone.
	evil := w.DB.Personality.Create().SetName("everyone").SetDisplayName("here").SaveX(ctx)
	w.DB.PersonalityAlias.Create().SetPersonalityID(evil.ID).SetAlias("Everyone Else").ExecX(ctx)
	for _, msg := range []string{"@everyone look", "@here look", "@Everyone Else look", "hi @HERE"} {
		if ids := route(bob, msg); len(ids) != 0 {
			t.Errorf("%q reached %v", msg, ids)
		}
	}
}

// The shared fixtures' shape: two system personalities displayed "Morrow
// Ash", the alias "morrow ash" on one. @Morrow Ash reaches the alias holder
// for everyone, whatever order the rows are in — edits reorder PostgreSQL's
// rows — and /personality view agrees with the mention.
func TestSameMessageSamePersonality(t *testing.T) {
	w := newAccessWorld(t)
	ctx := context.Background()
	w.Bot.KeepPersonalityNames(0)
	older := w.DB.Personality.Create().SetName("morrow-ash-45").SetDisplayName("Morrow Ash").SaveX(ctx)
	holder := w.DB.Personality.Create().SetName("morrow-ash-18").SetDisplayName("Morrow Ash").SaveX(ctx)
	w.DB.PersonalityAlias.Create().SetPersonalityID(holder.ID).SetAlias("morrow ash").ExecX(ctx)
	for i := 0; i < 6; i++ {
		// Edit one or the other: an UPDATE writes a new row version at the
		// end of the heap, so an unordered scan returns them the other way.
		target := older
		if i%2 == 1 {
			target = holder
		}
		w.DB.Personality.UpdateOneID(target.ID).SetErrorMessage(fmt.Sprintf("edit %d", i)).ExecX(ctx)
		for _, sp := range speakers {
			ids, err := w.Bot.RouteTo(ctx, &discordgo.Message{ID: nextID(), ChannelID: general, GuildID: guildID,
				Content: "@Morrow Ash hello", Author: &discordgo.User{ID: sp.id}})
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 1 || ids[0] != holder.ID {
				t.Fatalf("round %d, %s: @Morrow Ash reached %v, want the alias holder %s", i, sp.who, ids, holder.ID)
			}
			mustContain(t, w.told(t, sp.id, "view", str("name", "Morrow Ash")), "(`morrow-ash-18`)")
		}
	}
	// Without the alias the older of the two answers, and changing one of
	// them by display name is refused as ambiguous.
	w.DB.PersonalityAlias.Delete().ExecX(ctx)
	for i := 0; i < 2; i++ {
		w.DB.Personality.UpdateOneID(older.ID).SetErrorMessage(fmt.Sprintf("again %d", i)).ExecX(ctx)
		ids, _ := w.Bot.RouteTo(ctx, &discordgo.Message{ID: nextID(), ChannelID: general, GuildID: guildID,
			Content: "@morrow ash hi", Author: &discordgo.User{ID: bob}})
		if len(ids) != 1 || ids[0] != older.ID {
			t.Fatalf("without the alias: %v, want the older %s", ids, older.ID)
		}
	}
	mustContain(t, w.told(t, operatorID, "delete", str("name", "Morrow Ash")),
		"Several personalities are called “Morrow Ash”; use one of their names: morrow-ash-45, morrow-ash-18.")
}

// /imagine follows the rule too: a stranger cannot have another user's
// private personality draw, named or as the channel's last speaker, and
// nothing reaches the provider.
func TestImagineFollowsTheRule(t *testing.T) {
	w := newAccessWorld(t)
	// The private one talked last in #general (newAccessWorld wrote its turn last).
	ic := w.slash(bob, "imagine", "", str("prompt", "a fox"))
	mustContain(t, w.ephemeralText(t, ic), "No personality has talked in this channel yet")
	// Named, it is refused privately as missing, as every command refuses it.
	named := w.ephemeralText(t, w.slash(bob, "imagine", "", str("prompt", "a fox"), str("personality", "privy")))
	if strings.TrimSpace(named) != "No personality is called “privy”." {
		t.Errorf("told %q", named)
	}
	if n := len(w.OpenRouter.Calls()); n != 0 {
		t.Errorf("%d provider calls", n)
	}
}
