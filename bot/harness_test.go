//go:build integration

package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/bot"
	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/memory"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

func TestMain(m *testing.M) { itest.Main(m) }

// world is a bot wired to a real Temporal dev server and worker, a real
// database and the Discord and OpenRouter fakes; tests feed it gateway events.
type world struct {
	*itest.Stack
	Bot *bot.Bot
	now time.Time
	// runs is the bot's Temporal client, which keeps what it started.
	runs *startedRuns
}

const (
	appID   = "1100000000000000001"
	guildID = "1300000000000000001"
	general = "900000000000000001"
)

func newWorld(t *testing.T, opts itest.Options) *world {
	t.Helper()
	s := itest.New(t, opts)
	session, err := discordhttp.Session("test-token", s.DiscordURL)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Stack: s, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), runs: &startedRuns{Client: s.Client}}
	w.Bot = bot.New(bot.Deps{
		Session: session, Temporal: w.runs, DB: s.DB, Keys: s.Keys, Config: s.Config, Log: s.Activities.Log,
		Memory: memory.NewPostgres(s.Activities.SQL, memory.Options{}),
		Now:    func() time.Time { return w.now },
	})
	w.logsOnFailure(t)
	return w
}

var ids atomic.Int64

func nextID() string { return fmt.Sprintf("%d", 1500000000000000000+ids.Add(1)) }

// interaction builds an InteractionCreate from user in the test guild, and
// tells the fake about it so its responses are accepted.
func (w *world) interaction(userID string, typ discordgo.InteractionType, data discordgo.InteractionData) *discordgo.InteractionCreate {
	id := nextID()
	token := fakediscord.InteractionToken(id) // Discord's shape, so redaction meets the real thing
	w.Discord.AddInteraction(fakediscord.Interaction{ID: id, Token: token, ChannelID: general})
	return &discordgo.InteractionCreate{Interaction: &discordgo.Interaction{
		ID: id, AppID: appID, Type: typ, Token: token, ChannelID: general, GuildID: guildID,
		Member: &discordgo.Member{User: &discordgo.User{ID: userID, Username: "user" + userID[len(userID)-3:]}},
		Data:   data,
	}}
}

// slash runs a slash command: slash(u, "wallet", "set", opts...), or with
// a group and its subcommand: slash(u, "personality", "alias add", opts...).
func (w *world) slash(userID, name, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.InteractionCreate {
	data := discordgo.ApplicationCommandInteractionData{ID: nextID(), Name: name, CommandType: discordgo.ChatApplicationCommand, Options: opts}
	if sub != "" {
		data.Options = subcommand(sub, opts...)
	}
	ic := w.interaction(userID, discordgo.InteractionApplicationCommand, data)
	w.Bot.HandleInteraction(context.Background(), ic)
	return ic
}

// subcommand nests opts under sub, a subcommand or a group and its
// subcommand ("alias add"), as Discord sends them.
func subcommand(sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
	group, leaf, isGroup := strings.Cut(sub, " ")
	if !isGroup {
		return []*discordgo.ApplicationCommandInteractionDataOption{{Name: sub, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}
	}
	return []*discordgo.ApplicationCommandInteractionDataOption{{Name: group, Type: discordgo.ApplicationCommandOptionSubCommandGroup,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{{Name: leaf, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}}}}
}

func str(name, value string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: value}
}

// focused is a string option the user is typing, the one autocomplete answers for.
func focused(name, typed string) *discordgo.ApplicationCommandInteractionDataOption {
	o := str(name, typed)
	o.Focused = true
	return o
}

// choice is one autocomplete answer.
type choice struct{ name, value string }

// autocomplete sends the autocomplete of /command sub (sub "" for a command
// without subcommands; a group and its subcommand as "alias remove") with
// opts, one of them focused, and returns the choices answered, in order.
// Anything but one autocomplete result (type 8) fails the test.
func (w *world) autocomplete(t *testing.T, userID, command, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []choice {
	t.Helper()
	data := discordgo.ApplicationCommandInteractionData{ID: nextID(), Name: command, CommandType: discordgo.ChatApplicationCommand, Options: opts}
	if sub != "" {
		data.Options = subcommand(sub, opts...)
	}
	ic := w.interaction(userID, discordgo.InteractionApplicationCommandAutocomplete, data)
	w.Bot.HandleInteraction(context.Background(), ic)
	resp := w.responses(ic)
	if len(resp) != 1 || resp[0]["type"] != float64(discordgo.InteractionApplicationCommandAutocompleteResult) {
		t.Fatalf("autocomplete answered %v, want one autocomplete result (type 8)", resp)
	}
	body, _ := resp[0]["data"].(map[string]any)
	list, _ := body["choices"].([]any)
	var out []choice
	for _, c := range list {
		c := c.(map[string]any)
		out = append(out, choice{c["name"].(string), c["value"].(string)})
	}
	return out
}

// personalityChoices is the autocomplete of /personality sub, name to value.
func (w *world) personalityChoices(t *testing.T, userID, sub string, opts ...*discordgo.ApplicationCommandInteractionDataOption) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range w.autocomplete(t, userID, "personality", sub, opts...) {
		out[c.name] = c.value
	}
	return out
}

// submit answers a modal.
func (w *world) submit(userID, customID string, fields map[string]string) *discordgo.InteractionCreate {
	var rows []discordgo.MessageComponent
	for id, v := range fields {
		rows = append(rows, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.TextInput{CustomID: id, Value: v}}})
	}
	ic := w.interaction(userID, discordgo.InteractionModalSubmit, discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows})
	w.Bot.HandleInteraction(context.Background(), ic)
	return ic
}

// say posts a message in #general (or a DM channel when guild is "").
func (w *world) say(userID, channelID, guild, content string) *discordgo.MessageCreate {
	m := &discordgo.MessageCreate{Message: &discordgo.Message{
		ID: nextID(), ChannelID: channelID, GuildID: guild, Content: content,
		Author: &discordgo.User{ID: userID, Username: "user" + userID[len(userID)-3:]},
	}}
	w.Bot.HandleMessage(context.Background(), m)
	return m
}

// responses are the interaction callback bodies Discord received for ic.
func (w *world) responses(ic *discordgo.InteractionCreate) []map[string]any {
	var out []map[string]any
	for _, r := range w.Discord.InteractionResponses(ic.ID) {
		out = append(out, r.JSON)
	}
	return out
}

// ephemeralText is everything the user was told privately about ic: the
// immediate response's content and the follow-ups.
func (w *world) ephemeralText(t *testing.T, ic *discordgo.InteractionCreate) string {
	t.Helper()
	text := ""
	for _, r := range w.responses(ic) {
		data, _ := r["data"].(map[string]any)
		if data == nil {
			continue
		}
		if c, _ := data["content"].(string); c != "" {
			if f, _ := data["flags"].(float64); int(f)&64 == 0 {
				t.Errorf("response %q is not ephemeral", c)
			}
			text += c + "\n"
		}
	}
	for _, m := range w.Discord.FollowUps(ic.Token) {
		if !m.Ephemeral() {
			t.Errorf("follow-up %q is not ephemeral", m.Content)
		}
		text += m.Content + "\n"
	}
	return text
}

// logsOnFailure prints the world's log when t fails, for debugging.
func (w *world) logsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(w.Logs.String())
			for _, m := range w.Discord.Messages(general) {
				t.Logf("message in general: %+v", m)
			}
		}
	})
}

// posts are the messages in a channel that everyone sees and that are not
// interaction responses: what the personalities and the bot posted.
func (w *world) posts(channelID string) []fakediscord.Message {
	var out []fakediscord.Message
	for _, m := range w.Discord.Messages(channelID) {
		if !m.Ephemeral() && m.WebhookID != appID {
			out = append(out, m)
		}
	}
	return out
}

// replyResult waits for the GenerateReply the bot started for messageID
// (the bot starts it in its own goroutine, so it may not exist yet) and
// returns its result.
func (w *world) replyResult(t *testing.T, messageID string) workflows.GenerateReplyResult {
	t.Helper()
	ctx := context.Background()
	id := workflows.GenerateReplyID(messageID)
	testwait.Until(t, "the reply workflow to start", func() bool {
		_, err := w.Client.DescribeWorkflowExecution(ctx, id, "")
		return err == nil
	})
	var res workflows.GenerateReplyResult
	if err := w.Client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	return res
}
