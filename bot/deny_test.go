//go:build integration

package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"go.temporal.io/api/serviceerror"

	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

const (
	denyOwner = "100000000000000051"
	denyCarol = "100000000000000052"
	denyCleo  = "100000000000000053" // a superuser
	denyGuild = "1300000000000000052"
)

func userOpt(id string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: "user", Type: discordgo.ApplicationCommandOptionUser, Value: id}
}

// denyWorld is a world with Kerach answering guests on the operator's key,
// an owner and a superuser.
func denyWorld(t *testing.T) *world {
	t.Helper()
	const operator = "sk-or-v1-5555555555555555555555555555555555555555555555555555555555555555"
	w := newWorld(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operator})
	w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
	seedKerach(t, w)
	w.Bot.Config.BotOwnerDiscordID = denyOwner
	w.DB.User.Create().SetDiscordID(denyCleo).SetIsSuperuser(true).ExecX(context.Background())
	return w
}

// noReplyStarted says that messageID started no GenerateReply. The bot
// starts replies on their own goroutines, so it first waits for the reply
// to a later message (from bob, never denied) to end.
func (w *world) noReplyStarted(t *testing.T, channelID, guild, messageID string) {
	t.Helper()
	later := w.say(bob, channelID, guild, "@kerach are you there?")
	if res := w.replyResult(t, later.ID); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("bob's message: %+v", res)
	}
	_, err := w.Client.DescribeWorkflowExecution(context.Background(), workflows.GenerateReplyID(messageID), "")
	if _, notFound := err.(*serviceerror.NotFound); !notFound {
		t.Errorf("a reply workflow exists for the denied message (describe: %v)", err)
	}
}

// TestDenyUser: /admin deny user is for superusers only; a denied user's
// messages start no workflow and their commands and buttons get one
// ephemeral line; superusers cannot be denied; /admin deny list shows the
// entry; /admin allow restores replies.
func TestDenyUser(t *testing.T) {
	w := denyWorld(t)
	line := func(ic *discordgo.InteractionCreate) string { return strings.TrimSpace(w.ephemeralText(t, ic)) }

	if got := line(w.slash(denyCarol, "admin", "deny user", userOpt(bob))); got != "/admin is only for the bot's owner and superusers; /usage shows your own usage." {
		t.Errorf("a normal user denying: %q", got)
	}
	if n := w.DB.Denial.Query().CountX(context.Background()); n != 0 {
		t.Fatalf("%d denials after a refused /admin deny", n)
	}

	if got := line(w.slash(denyOwner, "admin", "deny user", userOpt(denyCarol), str("reason", "spam"))); got != "Denied <@"+denyCarol+"> (id "+denyCarol+")." {
		t.Fatalf("deny: %q", got)
	}
	m := w.say(denyCarol, general, guildID, "@kerach hello?")
	w.noReplyStarted(t, general, guildID, m.ID)

	const denied = "You are denied the use of this bot by its operators; it answers none of your messages or commands."
	if got := line(w.slash(denyCarol, "usage", "")); got != denied {
		t.Errorf("the denied user's /usage: %q", got)
	}
	if got := line(w.press(denyCarol, "data:confirm")); got != denied {
		t.Errorf("the denied user's button: %q", got)
	}

	for who, want := range map[string]string{
		denyOwner: "You cannot deny yourself.",
		denyCleo:  "<@" + denyCleo + "> (id " + denyCleo + ") is a superuser or the bot's owner, whom the deny list never stops.",
	} {
		if got := line(w.slash(denyOwner, "admin", "deny user", userOpt(who))); got != want {
			t.Errorf("denying %s: %q, want %q", who, got, want)
		}
	}
	if got := line(w.slash(denyCleo, "admin", "deny user", userOpt(denyOwner))); !strings.Contains(got, "whom the deny list never stops") {
		t.Errorf("a superuser denying the owner: %q", got)
	}

	list := line(w.slash(denyCleo, "admin", "deny list"))
	if !strings.HasPrefix(list, "Denied users:\n• <@"+denyCarol+"> (id "+denyCarol+") — by <@"+denyOwner+"> (id "+denyOwner+"), ") || !strings.HasSuffix(list, ": spam") {
		t.Errorf("deny list:\n%s", list)
	}
	if got := line(w.slash(denyCarol, "admin", "deny list")); got != denied {
		t.Errorf("the denied user's /admin deny list: %q", got)
	}

	if got := line(w.slash(denyOwner, "admin", "allow user", userOpt(denyCarol))); got != "Allowed <@"+denyCarol+"> (id "+denyCarol+") again." {
		t.Fatalf("allow: %q", got)
	}
	if res := w.replyResult(t, w.say(denyCarol, general, guildID, "@kerach back?").ID); res.Outcome != workflows.ReplyReplied {
		t.Errorf("after allow: %+v, want a reply", res)
	}
	if got := line(w.slash(denyOwner, "admin", "deny list")); got != "No one and no server is denied." {
		t.Errorf("deny list after allow: %q", got)
	}
}

// TestDenyGuild: denying a guild leaves it (Leave Guild on the Discord
// stand-in), its messages start nothing, a later GUILD_CREATE for it is
// left again, and /admin deny list shows it until /admin allow.
func TestDenyGuild(t *testing.T) {
	w := denyWorld(t)
	ctx := context.Background()
	const channel = "910000000000000052"
	if err := w.Discord.AddGuild(fakediscord.Guild{ID: denyGuild, Name: "Spam Land", ChannelIDs: []string{channel}}); err != nil {
		t.Fatal(err)
	}
	line := func(ic *discordgo.InteractionCreate) string { return strings.TrimSpace(w.ephemeralText(t, ic)) }

	if got := line(w.slash(denyCarol, "admin", "deny guild", str("guild", denyGuild))); !strings.HasPrefix(got, "/admin is only for") {
		t.Errorf("a normal user denying a guild: %q", got)
	}
	if got := line(w.slash(denyOwner, "admin", "deny guild", str("guild", "not-an-id"))); !strings.Contains(got, "is not a Discord id") {
		t.Errorf("a malformed guild id: %q", got)
	}
	got := line(w.slash(denyOwner, "admin", "deny guild", str("guild", denyGuild), str("reason", "raids")))
	if got != "Denied server "+denyGuild+". The bot has left it, and leaves it again whenever it is added back." {
		t.Fatalf("deny guild: %q", got)
	}
	if left := w.Discord.LeftGuilds(); !slices.Equal(left, []string{denyGuild}) {
		t.Fatalf("left guilds %v, want the denied one", left)
	}

	// Its messages start nothing meanwhile.
	m := w.say(denyCarol, channel, denyGuild, "@kerach hi from spam land")
	w.noReplyStarted(t, general, guildID, m.ID)

	// Added back: the GUILD_CREATE is answered by leaving again.
	if err := w.Discord.AddGuild(fakediscord.Guild{ID: denyGuild, Name: "Spam Land"}); err != nil {
		t.Fatal(err)
	}
	w.Bot.HandleGuildCreate(ctx, &discordgo.GuildCreate{Guild: &discordgo.Guild{ID: denyGuild, Name: "Spam Land"}})
	testwait.Until(t, "the second leave", func() bool { return len(w.Discord.LeftGuilds()) == 2 })
	// A guild that is not denied is not left.
	w.Bot.HandleGuildCreate(ctx, &discordgo.GuildCreate{Guild: &discordgo.Guild{ID: guildID}})
	if left := w.Discord.LeftGuilds(); len(left) != 2 {
		t.Errorf("left guilds %v: a guild that is not denied was left", left)
	}

	if list := line(w.slash(denyOwner, "admin", "deny list")); !strings.HasPrefix(list, "Denied servers:\n• server "+denyGuild+" — by <@"+denyOwner+"> (id "+denyOwner+"), ") ||
		!strings.HasSuffix(list, ": raids") {
		t.Errorf("deny list:\n%s", list)
	}
	if got := line(w.slash(denyOwner, "admin", "allow guild", str("guild", denyGuild))); got != "Allowed server "+denyGuild+" again." {
		t.Errorf("allow guild: %q", got)
	}
	w.Bot.HandleGuildCreate(ctx, &discordgo.GuildCreate{Guild: &discordgo.Guild{ID: denyGuild}})
	if left := w.Discord.LeftGuilds(); len(left) != 2 {
		t.Errorf("left guilds %v: an allowed guild was left", left)
	}
}

// TestDenyGuildStopsSuperusersButAdmin: in a denied guild everyone's
// messages and interactions are refused, the owner's and superusers' too —
// but for their /admin, which still answers there so the denial can be
// listed and undone where it was made.
func TestDenyGuildStopsSuperusersButAdmin(t *testing.T) {
	w := denyWorld(t)
	line := func(ic *discordgo.InteractionCreate) string { return strings.TrimSpace(w.ephemeralText(t, ic)) }
	// The harness's interactions come from guildID: deny that one.
	if got := line(w.slash(denyOwner, "admin", "deny guild", str("guild", guildID))); !strings.HasPrefix(got, "Denied server "+guildID+".") {
		t.Fatalf("deny guild: %q", got)
	}
	const refused = "This server is denied the use of this bot by its operators, so the bot is leaving it."
	for _, who := range []string{denyOwner, denyCleo, denyCarol} {
		if got := line(w.slash(who, "usage", "")); got != refused {
			t.Errorf("/usage of %s in the denied guild: %q, want the refusal", who, got)
		}
	}
	if got := line(w.press(denyOwner, "data:confirm")); got != refused {
		t.Errorf("the owner's button in the denied guild: %q, want the refusal", got)
	}
	if got := line(w.slash(denyCarol, "admin", "deny list")); got != refused {
		t.Errorf("a normal user's /admin in the denied guild: %q, want the refusal", got)
	}
	if got := line(w.slash(denyCleo, "admin", "deny list")); !strings.HasPrefix(got, "Denied servers:\n• server "+guildID) {
		t.Errorf("a superuser's /admin deny list in the denied guild: %q, want the list", got)
	}
	if got := line(w.slash(denyOwner, "admin", "allow guild", str("guild", guildID))); got != "Allowed server "+guildID+" again." {
		t.Fatalf("the owner's /admin allow guild in the denied guild: %q", got)
	}
	if got := line(w.slash(denyOwner, "usage", "")); got == refused {
		t.Errorf("/usage after allow: still refused")
	}
}
