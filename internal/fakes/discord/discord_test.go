package discord_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

const (
	botID  = "1100000000000000001"
	userID = "2200000000000000002"
	chanID = "3300000000000000003"
)

func setup(t *testing.T, opts discord.Options) (*discord.Server, *httptest.Server, *discordgo.Session) {
	t.Helper()
	fake := discord.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := discordgo.New("Bot test-token")
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: &discord.RewriteTransport{Target: target}, Timeout: 10 * time.Second}
	return fake, srv, s
}

// newWebhook creates a webhook named name in chanID.
func newWebhook(t *testing.T, s *discordgo.Session, name string) *discordgo.Webhook {
	t.Helper()
	hook, err := s.WebhookCreate(chanID, name, "")
	if err != nil {
		t.Fatal(err)
	}
	return hook
}

func restError(t *testing.T, err error) *discordgo.RESTError {
	t.Helper()
	re, ok := errors.AsType[*discordgo.RESTError](err)
	if !ok {
		t.Fatalf("want *discordgo.RESTError, got %T: %v", err, err)
	}
	return re
}

func TestDMFlow(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	me, err := s.User("@me")
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != botID || !me.Bot || me.Username != "Tzurot" {
		t.Errorf("me = %+v", me)
	}

	ch, err := s.UserChannelCreate(userID)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Type != discordgo.ChannelTypeDM || ch.ID == "" || len(ch.Recipients) != 1 || ch.Recipients[0].ID != userID {
		t.Errorf("channel = %+v", ch)
	}
	again, err := s.UserChannelCreate(userID)
	if err != nil || again.ID != ch.ID {
		t.Errorf("dm channel not stable: %v %v", again, err)
	}

	msg, err := s.ChannelMessageSend(ch.ID, "your key works")
	if err != nil {
		t.Fatal(err)
	}
	if msg.ID == "" || msg.ChannelID != ch.ID || msg.Content != "your key works" || msg.Author.ID != botID || msg.Timestamp.IsZero() {
		t.Errorf("message = %+v", msg)
	}
	dms := fake.DMs(userID)
	if len(dms) != 1 || dms[0].Content != "your key works" || dms[0].ID != msg.ID {
		t.Errorf("DMs = %+v", dms)
	}

	fake.BlockDMs(userID)
	_, err = s.ChannelMessageSend(ch.ID, "hello?")
	if re := restError(t, err); re.Response.StatusCode != 403 || re.Message.Code != 50007 {
		t.Errorf("blocked DM: %v", err)
	}
}

func TestChannelMessageWithFileAndEdits(t *testing.T) {
	fake, srv, s := setup(t, discord.Options{})
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	msg, err := s.ChannelMessageSendComplex(chanID, &discordgo.MessageSend{
		Content:   "here is your picture",
		Files:     []*discordgo.File{{Name: "fox.png", ContentType: "image/png", Reader: bytes.NewReader(png)}},
		Reference: &discordgo.MessageReference{MessageID: "4400000000000000004", ChannelID: chanID},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Filename != "fox.png" || msg.Attachments[0].Size != len(png) || msg.Attachments[0].ContentType != "image/png" {
		t.Fatalf("attachments = %+v", msg.Attachments)
	}
	if msg.Type != discordgo.MessageTypeReply || msg.MessageReference == nil || msg.MessageReference.MessageID != "4400000000000000004" {
		t.Errorf("reply = %v %+v", msg.Type, msg.MessageReference)
	}
	got := fake.Messages(chanID)
	if len(got) != 1 || !bytes.Equal(got[0].Attachments[0].Data, png) {
		t.Fatalf("recorded = %+v", got)
	}
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	if last.Route != "POST /channels/{channel_id}/messages" || len(last.Files) != 1 || !bytes.Equal(last.Files[0].Data, png) || last.JSON["content"] != "here is your picture" {
		t.Errorf("request = %+v", last)
	}

	// The attachment URL is served like the CDN.
	resp, err := http.Get(msg.Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(msg.Attachments[0].URL, srv.URL) || !bytes.Equal(body, png) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("attachment fetch = %q %s", msg.Attachments[0].URL, body)
	}

	// Signed like Discord's CDN: expired, the URL answers 404; the message
	// fetched again carries a fresh one that works.
	if u, _ := url.Parse(msg.Attachments[0].URL); u.Query().Get("ex") == "" || u.Query().Get("is") == "" || u.Query().Get("hm") == "" {
		t.Errorf("attachment URL %q is not signed", msg.Attachments[0].URL)
	}
	fake.ExpireAttachmentURLs()
	if resp, err := http.Get(msg.Attachments[0].URL); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("expired attachment URL answered %v, %v; want 404", resp, err)
	}
	fresh, err := s.ChannelMessage(chanID, msg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(fresh.Attachments[0].URL); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh attachment URL answered %v, %v; want 200", resp, err)
	}

	edited, err := s.ChannelMessageEdit(chanID, msg.ID, "edited")
	if err != nil {
		t.Fatal(err)
	}
	if edited.Content != "edited" || edited.EditedTimestamp == nil || len(edited.Attachments) != 1 {
		t.Errorf("edited = %+v", edited)
	}
	if err := s.ChannelMessageDelete(chanID, msg.ID); err != nil {
		t.Fatal(err)
	}
	if got := fake.Messages(chanID); len(got) != 1 || !got[0].Deleted || got[0].Content != "edited" {
		t.Errorf("after delete = %+v", got)
	}
	_, err = s.ChannelMessage(chanID, msg.ID)
	if re := restError(t, err); re.Response.StatusCode != 404 || re.Message.Code != 10008 {
		t.Errorf("deleted fetch: %v", err)
	}
}

func TestMessageValidation(t *testing.T) {
	_, _, s := setup(t, discord.Options{})
	_, err := s.ChannelMessageSend(chanID, "")
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50006 {
		t.Errorf("empty: %v", err)
	}
	_, err = s.ChannelMessageSend(chanID, strings.Repeat("é", 2001))
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 || !strings.Contains(string(re.ResponseBody), "BASE_TYPE_MAX_LENGTH") {
		t.Errorf("too long: %v", err)
	}
	if _, err := s.ChannelMessageSend(chanID, strings.Repeat("é", 2000)); err != nil {
		t.Errorf("2000 characters must pass: %v", err)
	}
	_, err = s.ChannelMessageSend("general", "hi")
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 || !strings.Contains(string(re.ResponseBody), "is not snowflake") {
		t.Errorf("bad id: %v", err)
	}
}

func TestWebhookFlow(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Tzurot Personas")
	if hook.ID == "" || hook.Token == "" || hook.ChannelID != chanID || hook.Type != discordgo.WebhookTypeIncoming {
		t.Errorf("webhook = %+v", hook)
	}
	list, err := s.ChannelWebhooks(chanID)
	if err != nil || len(list) != 1 || list[0].Token != hook.Token {
		t.Errorf("list = %+v %v", list, err)
	}
	if n := fake.WebhooksCreated(chanID); n != 1 {
		t.Errorf("created = %d", n)
	}

	msg, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{
		Content:   "I am Lilith",
		Username:  "Lilith",
		AvatarURL: "https://example.com/lilith.png",
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.WebhookID != hook.ID || msg.Author.Username != "Lilith" || msg.Content != "I am Lilith" || msg.ChannelID != chanID {
		t.Errorf("webhook message = %+v author=%+v", msg, msg.Author)
	}
	none, err := s.WebhookExecute(hook.ID, hook.Token, false, &discordgo.WebhookParams{Content: "fire and forget"})
	if err != nil || none != nil {
		t.Errorf("wait=false: %v %v", none, err)
	}
	got := fake.Messages(chanID)
	if len(got) != 2 || got[0].AvatarURL != "https://example.com/lilith.png" || got[0].Author.Username != "Lilith" || got[1].Author.Username != "Tzurot Personas" {
		t.Errorf("recorded = %+v", got)
	}

	edited, err := s.WebhookMessageEdit(hook.ID, hook.Token, msg.ID, &discordgo.WebhookEdit{Content: ptr("I am Lilith, edited")})
	if err != nil || edited.Content != "I am Lilith, edited" {
		t.Errorf("edit = %+v %v", edited, err)
	}
	// Only the bot's own messages can be edited through the channel route.
	_, err = s.ChannelMessageEdit(chanID, msg.ID, "hijack")
	if re := restError(t, err); re.Response.StatusCode != 403 || re.Message.Code != 50005 {
		t.Errorf("edit webhook message as bot: %v", err)
	}

	_, err = s.WebhookExecute(hook.ID, "wrong-token", true, &discordgo.WebhookParams{Content: "x"})
	if re := restError(t, err); re.Response.StatusCode != 401 || re.Message.Code != 50027 {
		t.Errorf("bad token: %v", err)
	}
	_, err = s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "x", Username: "Clyde"})
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 {
		t.Errorf("clyde username: %v", err)
	}
	_, err = s.WebhookCreate(chanID, "discord bot", "")
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 {
		t.Errorf("webhook named discord: %v", err)
	}
}

func TestWebhookWithFileNoAuthNeeded(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Personas")
	// Webhook execution authenticates by the token in the path only.
	anon, err := discordgo.New("")
	if err != nil {
		t.Fatal(err)
	}
	anon.Client = s.Client
	msg, err := anon.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{
		Files: []*discordgo.File{{Name: "a.txt", Reader: strings.NewReader("abc")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/octet-stream" {
		t.Errorf("attachments = %+v", msg.Attachments)
	}
	if got := fake.Messages(chanID); len(got) != 1 || string(got[0].Attachments[0].Data) != "abc" {
		t.Errorf("recorded = %+v", got)
	}
	// Bot routes do need the token.
	_, err = anon.ChannelMessageSend(chanID, "hi")
	if re := restError(t, err); re.Response.StatusCode != 401 || re.Message.Message != "401: Unauthorized" {
		t.Errorf("no auth: %v", err)
	}
}

func TestDeniedWebhookPermission(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	fake.DenyWebhooks(chanID)
	_, err := s.WebhookCreate(chanID, "Personas", "")
	re := restError(t, err)
	if re.Response.StatusCode != 403 || re.Message == nil || re.Message.Code != 50013 || re.Message.Message != "Missing Permissions" {
		t.Errorf("denied: %v", err)
	}
	if fake.WebhooksCreated(chanID) != 0 {
		t.Error("denied creation counted")
	}
}

func TestWebhookLimitPerChannel(t *testing.T) {
	_, _, s := setup(t, discord.Options{})
	for i := range 15 {
		if _, err := s.WebhookCreate(chanID, "hook", ""); err != nil {
			t.Fatalf("webhook %d: %v", i, err)
		}
	}
	_, err := s.WebhookCreate(chanID, "hook", "")
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 30007 {
		t.Errorf("16th webhook: %v", err)
	}
}

func TestInteractionsAndFollowUps(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	fake.AddInteraction(discord.Interaction{ID: "5500000000000000005", Token: "tok-deferred", ChannelID: chanID})
	deferred := &discordgo.Interaction{ID: "5500000000000000005", AppID: botID, Token: "tok-deferred"}
	modal := &discordgo.Interaction{ID: "5500000000000000006", AppID: botID, Token: "tok-modal"}

	err := s.InteractionRespond(modal, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{
			CustomID: "set-key",
			Title:    "Set your OpenRouter key",
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: "key", Label: "API key", Style: discordgo.TextInputShort, Required: true},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := fake.InteractionResponses(modal.ID)
	if len(rs) != 1 || rs[0].JSON["type"] != 9.0 || rs[0].Status != 204 {
		t.Fatalf("modal responses = %+v", rs)
	}
	if data := rs[0].JSON["data"].(map[string]any); data["title"] != "Set your OpenRouter key" || data["custom_id"] != "set-key" {
		t.Errorf("modal data = %v", data)
	}
	err = s.InteractionRespond(modal, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 40060 {
		t.Errorf("second ack: %v", err)
	}

	err = s.InteractionRespond(deferred, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs = fake.InteractionResponses(deferred.ID)
	if len(rs) != 1 || rs[0].JSON["type"] != 5.0 || rs[0].JSON["data"].(map[string]any)["flags"] != 64.0 {
		t.Fatalf("deferred responses = %+v", rs)
	}
	orig, ok := fake.Original(deferred.Token)
	if !ok || !orig.Ephemeral() || orig.Flags&128 == 0 {
		t.Errorf("deferred original = %+v", orig)
	}

	edited, err := s.InteractionResponseEdit(deferred, &discordgo.WebhookEdit{Content: ptr("Your key is valid.")})
	if err != nil {
		t.Fatal(err)
	}
	if edited.Content != "Your key is valid." || edited.Flags&discordgo.MessageFlagsEphemeral == 0 || edited.Flags&discordgo.MessageFlagsLoading != 0 {
		t.Errorf("edited original = %+v", edited)
	}

	fu, err := s.FollowupMessageCreate(deferred, true, &discordgo.WebhookParams{
		Content: "details attached",
		Flags:   discordgo.MessageFlagsEphemeral,
		Files:   []*discordgo.File{{Name: "usage.csv", ContentType: "text/csv", Reader: strings.NewReader("a,b\n1,2\n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fu.Content != "details attached" || fu.Flags&discordgo.MessageFlagsEphemeral == 0 || fu.WebhookID != botID || fu.Author.ID != botID {
		t.Errorf("follow-up = %+v", fu)
	}
	fus := fake.FollowUps(deferred.Token)
	if len(fus) != 1 || fus[0].Attachments[0].Filename != "usage.csv" || string(fus[0].Attachments[0].Data) != "a,b\n1,2\n" {
		t.Errorf("FollowUps = %+v", fus)
	}
	if got := fake.Messages(chanID); len(got) != 2 || got[0].Content != "Your key is valid." || got[1].Content != "details attached" {
		t.Errorf("channel = %+v", got)
	}
	if _, err := s.FollowupMessageEdit(deferred, fu.ID, &discordgo.WebhookEdit{Content: ptr("changed")}); err != nil {
		t.Errorf("follow-up edit: %v", err)
	}
	if err := s.FollowupMessageDelete(deferred, fu.ID); err != nil {
		t.Errorf("follow-up delete: %v", err)
	}

	// A follow-up before acknowledging, or with the interaction id instead
	// of the application id, is an unknown webhook on Discord.
	early := &discordgo.Interaction{ID: "5500000000000000007", AppID: botID, Token: "tok-early"}
	_, err = s.FollowupMessageCreate(early, true, &discordgo.WebhookParams{Content: "too soon"})
	if re := restError(t, err); re.Response.StatusCode != 404 || re.Message.Code != 10015 {
		t.Errorf("early follow-up: %v", err)
	}
	wrongApp := &discordgo.Interaction{ID: deferred.ID, AppID: deferred.ID, Token: deferred.Token}
	_, err = s.FollowupMessageCreate(wrongApp, true, &discordgo.WebhookParams{Content: "x"})
	if re := restError(t, err); re.Response.StatusCode != 404 || re.Message.Code != 10015 {
		t.Errorf("wrong app id: %v", err)
	}
}

func TestInteractionMessageAndModalValidation(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	i := &discordgo.Interaction{ID: "5500000000000000008", AppID: botID, Token: "tok-msg"}
	err := s.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "pong", Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := s.InteractionResponse(i)
	if err != nil || orig.Content != "pong" || orig.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Errorf("original = %+v %v", orig, err)
	}

	bad := &discordgo.Interaction{ID: "5500000000000000009", AppID: botID, Token: "tok-bad"}
	err = s.InteractionRespond(bad, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: "m", Title: strings.Repeat("t", 46)},
	})
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 {
		t.Errorf("bad modal: %v", err)
	}
	if rs := fake.InteractionResponses(bad.ID); len(rs) != 1 || rs[0].Status != 400 {
		t.Errorf("rejected callback not recorded: %+v", rs)
	}
}

func TestCommandsBulkOverwrite(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	cmds := []*discordgo.ApplicationCommand{
		{Name: "persona", Description: "Talk to a persona", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "Which persona", Required: true},
		}},
		{Name: "key", Description: "Manage your OpenRouter key"},
	}
	got, err := s.ApplicationCommandBulkOverwrite(botID, "", cmds)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID == "" || got[0].ApplicationID != botID || got[0].Name != "persona" || got[0].Type != discordgo.ChatApplicationCommand || len(got[0].Options) != 1 {
		t.Fatalf("registered = %+v", got)
	}
	firstID := got[0].ID
	again, err := s.ApplicationCommandBulkOverwrite(botID, "", cmds[:1])
	if err != nil || len(again) != 1 || again[0].ID != firstID {
		t.Errorf("overwrite must keep ids by name: %+v %v", again, err)
	}
	listed, err := s.ApplicationCommands(botID, "")
	if err != nil || len(listed) != 1 {
		t.Errorf("list = %+v %v", listed, err)
	}

	guild, err := s.ApplicationCommandBulkOverwrite(botID, "6600000000000000006", cmds)
	if err != nil || len(guild) != 2 || guild[0].GuildID != "6600000000000000006" {
		t.Errorf("guild = %+v %v", guild, err)
	}
	if len(fake.Commands("6600000000000000006")) != 2 || len(fake.Commands("")) != 1 {
		t.Error("Commands accessor out of sync")
	}

	_, err = s.ApplicationCommandBulkOverwrite(botID, "", []*discordgo.ApplicationCommand{{Name: "Persona", Description: "upper case"}})
	if re := restError(t, err); re.Response.StatusCode != 400 || re.Message.Code != 50035 {
		t.Errorf("upper-case name: %v", err)
	}
	_, err = s.ApplicationCommandBulkOverwrite("7700000000000000007", "", cmds)
	if re := restError(t, err); re.Response.StatusCode != 403 {
		t.Errorf("other application: %v", err)
	}
}

func TestTypingAndGateway(t *testing.T) {
	fake, srv, s := setup(t, discord.Options{})
	if err := s.ChannelTyping(chanID); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Route != "POST /channels/{channel_id}/typing" || reqs[0].Status != 204 || reqs[0].Path != "/api/v9/channels/"+chanID+"/typing" {
		t.Errorf("typing = %+v", reqs)
	}
	gw, err := s.Gateway()
	host := strings.TrimPrefix(srv.URL, "http://")
	if err != nil || gw != "ws://"+host+"/gateway-ws/" {
		t.Errorf("gateway = %q %v", gw, err)
	}
	bot, err := s.GatewayBot()
	if err != nil || bot.Shards != 1 || bot.SessionStartLimit.MaxConcurrency != 1 {
		t.Errorf("gateway bot = %+v %v", bot, err)
	}
}

func TestRateLimitIsHonoured(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	fake.RateLimitNext("POST /channels/{channel_id}/messages", 100*time.Millisecond)
	start := time.Now()
	if _, err := s.ChannelMessageSend(chanID, "after the limit"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("discordgo did not wait")
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests = %+v", reqs)
	}
	if n := len(fake.Messages(chanID)); n != 1 {
		t.Errorf("messages = %d", n)
	}

	// Without retries the 429 surfaces with Discord's body.
	fake.RateLimitNext("/channels/"+chanID+"/typing", 1500*time.Millisecond)
	err := s.ChannelTyping(chanID, discordgo.WithRetryOnRatelimit(false))
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 1500*time.Millisecond || rl.Message != "You are being rate limited." {
		t.Errorf("rate limit error = %v", err)
	}
}

func TestRawProtocolDetails(t *testing.T) {
	fake, srv, _ := setup(t, discord.Options{Token: "secret"})
	do := func(method, path, auth string, body any) (*http.Response, map[string]any) {
		t.Helper()
		h := http.Header{"Content-Type": {"application/json"}}
		if auth != "" {
			h.Set("Authorization", auth)
		}
		resp, b, err := fakehttp.Request(method, srv.URL+path, h, body)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if len(b) > 0 {
			_ = json.Unmarshal(b, &out)
		}
		return resp, out
	}

	resp, body := do("GET", "/api/v9/nothing/here", "Bot secret", nil)
	if resp.StatusCode != 404 || body["message"] != "404: Not Found" || body["code"] != 0.0 {
		t.Errorf("unknown route = %d %v", resp.StatusCode, body)
	}
	resp, body = do("GET", "/api/v9/users/@me", "Bot wrong", nil)
	if resp.StatusCode != 401 || body["message"] != "401: Unauthorized" {
		t.Errorf("wrong token = %d %v", resp.StatusCode, body)
	}
	resp, _ = do("GET", "/api/v9/users/@me", "secret", nil)
	if resp.StatusCode != 401 {
		t.Errorf("missing Bot prefix = %d", resp.StatusCode)
	}
	resp, _ = do("GET", "/api/v10/users/@me", "Bot secret", nil)
	if resp.StatusCode != 200 {
		t.Errorf("v10 = %d", resp.StatusCode)
	}
	resp, _ = do("DELETE", "/api/v9/channels/"+chanID+"/typing", "Bot secret", nil)
	if resp.StatusCode != 405 {
		t.Errorf("wrong method = %d", resp.StatusCode)
	}
	resp, body = do("POST", "/api/v9/interactions/5500000000000000010/tok/callback", "", map[string]any{"type": 1})
	if resp.StatusCode != 400 || body["code"] != 50035.0 {
		t.Errorf("PONG over REST = %d %v", resp.StatusCode, body)
	}

	fake.RateLimitNext("GET /users/@me", 2*time.Second)
	resp, body = do("GET", "/api/v9/users/@me", "Bot secret", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("X-RateLimit-Remaining") != "0" ||
		resp.Header.Get("X-RateLimit-Reset-After") != "2.000" || body["retry_after"] != 2.0 || body["global"] != false {
		t.Errorf("429 = %d %v %v", resp.StatusCode, resp.Header, body)
	}

	fake.Reset()
	if len(fake.Requests()) != 0 {
		t.Error("reset kept requests")
	}
}

func TestConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	seen := 0
	fake, _, s := setup(t, discord.Options{OnMessage: func(discord.Message) {
		mu.Lock()
		seen++
		mu.Unlock()
	}})
	hook := newWebhook(t, s, "Personas")
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = s.ChannelMessageSend(chanID, "bot")
			} else {
				_, err = s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "hook"})
			}
			if err != nil {
				t.Error(err)
			}
			_ = fake.Messages(chanID)
			_ = fake.Requests()
		}()
	}
	wg.Wait()
	if got := len(fake.Messages(chanID)); got != n {
		t.Errorf("messages = %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != n {
		t.Errorf("OnMessage saw %d", seen)
	}
}

func TestRewriteTransportPrefix(t *testing.T) {
	fake := discord.New(discord.Options{})
	mux := http.NewServeMux()
	mux.Handle("/discord/", http.StripPrefix("/discord", fake))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	target, _ := url.Parse(srv.URL + "/discord")
	s, _ := discordgo.New("Bot t")
	s.Client = &http.Client{Transport: &discord.RewriteTransport{Target: target}}
	if _, err := s.User("@me"); err != nil {
		t.Fatal(err)
	}
	if _, err := (&discord.RewriteTransport{}).RoundTrip(httptest.NewRequest("GET", "https://discord.com/api/v9/gateway", nil)); err == nil {
		t.Error("nil target must fail")
	}
}

func ptr(s string) *string { return &s }

// Discord's enforce_nonce makes a retried create return the first message.
func TestEnforceNonceReturnsTheFirstMessage(t *testing.T) {
	srv := discord.New(discord.Options{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	post := func(body string) map[string]any {
		h := http.Header{"Authorization": {"Bot test-token"}, "Content-Type": {"application/json"}}
		_, b, err := fakehttp.Request("POST", ts.URL+"/api/v9/channels/1200000000000000001/messages", h, body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode answer: %v", err)
		}
		return m
	}
	a := post(`{"content":"hi","nonce":"n1","enforce_nonce":true}`)
	b := post(`{"content":"hi","nonce":"n1","enforce_nonce":true}`)
	c := post(`{"content":"hi","nonce":"n1"}`)
	if a["id"] == nil || a["id"] != b["id"] || c["id"] == a["id"] {
		t.Fatalf("ids %v %v %v: want the first two equal and the third new", a["id"], b["id"], c["id"])
	}
	if n := len(srv.Messages("1200000000000000001")); n != 2 {
		t.Fatalf("%d messages stored, want 2", n)
	}
}

// Discord counts content in code points (its API is Python 3:
// https://github.com/discord/discord-api-docs/issues/1315), so 2000 emoji
// (4000 UTF-16 units, 8000 bytes) pass and 2001 accented letters do not,
// on every route that takes content, in Discord's 50035 shape.
func TestContentLimitCountsCodePoints(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Tzurot")
	sent, err := s.ChannelMessageSend(chanID, "to edit")
	if err != nil {
		t.Fatal(err)
	}
	hooked, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "to edit"})
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]func(content string) error{
		"create message": func(c string) error { _, err := s.ChannelMessageSend(chanID, c); return err },
		"edit message":   func(c string) error { _, err := s.ChannelMessageEdit(chanID, sent.ID, c); return err },
		"execute webhook": func(c string) error {
			_, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: c})
			return err
		},
		"edit webhook message": func(c string) error {
			_, err := s.WebhookMessageEdit(hook.ID, hook.Token, hooked.ID, &discordgo.WebhookEdit{Content: &c})
			return err
		},
	}
	contents := []struct {
		name    string
		content string
		ok      bool
	}{
		{"2000 ASCII", strings.Repeat("a", 2000), true},
		{"2001 ASCII", strings.Repeat("a", 2001), false},
		{"2000 emoji, 4000 UTF-16 units", strings.Repeat("👍", 2000), true},
		{"1000 skin-toned emoji, 2000 code points", strings.Repeat("👍🏽", 1000), true},
		{"1000 skin-toned emoji and a letter", strings.Repeat("👍🏽", 1000) + "a", false},
		{"2001 accented letters, 2001 code points in 4002 bytes", strings.Repeat("é", 2001), false},
		{"1000 letters with combining accents", strings.Repeat("e\u0301", 1000), true},
		{"1000 letters with combining accents and one more", strings.Repeat("e\u0301", 1000) + "e", false},
	}
	want := `{"code":50035,"errors":{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 2000 or fewer in length."}]}},"message":"Invalid Form Body"}`
	for route, send := range routes {
		for _, tc := range contents {
			before := len(fake.Messages(chanID))
			err := send(tc.content)
			if tc.ok {
				if err != nil {
					t.Errorf("%s, %s: %v", route, tc.name, err)
				}
				continue
			}
			re := restError(t, err)
			var got any
			if err := json.Unmarshal(re.ResponseBody, &got); err != nil {
				t.Fatal(err)
			}
			norm, _ := json.Marshal(got)
			if re.Response.StatusCode != http.StatusBadRequest || string(norm) != want {
				t.Errorf("%s, %s: %d %s\nwant 400 %s", route, tc.name, re.Response.StatusCode, norm, want)
			}
			if after := len(fake.Messages(chanID)); after != before {
				t.Errorf("%s, %s: a refused message was stored", route, tc.name)
			}
		}
	}
}

// An edit's attachments list, when sent, is everything the message holds
// afterwards (API v10): a new file counts only when listed by the n of its
// files[n]; without a list, attachments stay and files are added.
func TestEditAttachmentsListWhatStays(t *testing.T) {
	fake, _, s := setup(t, discord.Options{})
	hook := newWebhook(t, s, "Personas")
	msg, err := s.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "brr"})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(listed *[]*discordgo.MessageAttachment) []discord.Attachment {
		t.Helper()
		if _, err := s.WebhookMessageEdit(hook.ID, hook.Token, msg.ID, &discordgo.WebhookEdit{
			Files:       []*discordgo.File{{Name: "v.mp3", ContentType: "audio/mpeg", Reader: strings.NewReader("id3")}},
			Attachments: listed,
		}); err != nil {
			t.Fatal(err)
		}
		return fake.Messages(chanID)[0].Attachments
	}
	if got := edit(&[]*discordgo.MessageAttachment{{ID: "0", Filename: "v.mp3"}}); len(got) != 1 || got[0].Filename != "v.mp3" {
		t.Fatalf("new file listed as 0: attachments %+v, want it", got)
	}
	kept := fake.Messages(chanID)[0].Attachments[0].ID
	if got := edit(&[]*discordgo.MessageAttachment{{ID: kept}}); len(got) != 1 || got[0].ID != kept {
		t.Errorf("only the old one listed: attachments %+v, want it alone (the unlisted upload dropped)", got)
	}
	if got := edit(nil); len(got) != 2 || got[0].ID != kept {
		t.Errorf("no list: attachments %+v, want the old one and the upload", got)
	}
	if got := edit(&[]*discordgo.MessageAttachment{}); len(got) != 0 || fake.Messages(chanID)[0].Content != "brr" {
		t.Errorf("empty list: attachments %+v, want none and the text kept", got)
	}
}
