package devchat

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/internal/discordhttp"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// lockedVT is a vt the fake's request goroutines write to through Show.
type lockedVT struct {
	mu sync.Mutex
	vt vt
}

func (l *lockedVT) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.vt.write(strings.ReplaceAll(string(p), "…", "~"))
	return len(p), nil
}

func (l *lockedVT) screen() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.ReplaceAll(l.vt.screen(), "~", "…")
}

// terminalChat is a chat on a terminal (out) shown what the Discord
// stand-in records, as `tzurot dev` wires it, with no bot: the test
// writes as the worker does, through the returned session.
func terminalChat(t *testing.T, out *lockedVT) (*Chat, *discordgo.Session, *discordgo.Webhook) {
	t.Helper()
	var c *Chat
	dc := fakediscord.New(fakediscord.Options{OnMessage: func(m fakediscord.Message) { c.Show(m) }})
	c = &Chat{opts: ChatOptions{Discord: dc, Out: out, Terminal: true}, appID: dc.Options().ApplicationID,
		channel: ChatChannelID, shown: map[string]string{}, signed: map[string]string{},
		channels: map[string]string{ChatChannelID: ChatChannel}, lastPost: map[string]*discordgo.Message{},
		guild: newGuild(dc.BotUserID(), dc.Options().BotUsername)}
	c.screen = newScreen(true, func() int { return out.vt.cols })
	srv := httptest.NewServer(dc)
	t.Cleanup(srv.Close)
	session, err := discordhttp.Session("test-token", srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	hook, err := session.WebhookCreate(ChatChannelID, "Tzurot", "")
	if err != nil {
		t.Fatal(err)
	}
	return c, session, hook
}

// A streamed half reply the worker deletes (DiscardStream) goes from the
// terminal: the stand-in tells the chat of the DELETE, and the block,
// still in reach, is redrawn away before the bot's notice.
func TestShowTerminalDeletedHalfReplyGoes(t *testing.T) {
	out := &lockedVT{vt: vt{cols: 100}}
	_, session, hook := terminalChat(t, out)
	m, err := session.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: "Echo from the half reply", Username: "Tzurot Demo"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.screen(), "Echo from the half reply") {
		t.Fatalf("the post does not show:\n%s", out.screen())
	}
	if err := session.WebhookMessageDelete(hook.ID, hook.Token, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := session.ChannelMessageSend(ChatChannelID, "@sam I couldn't answer: the model wrote no text"); err != nil {
		t.Fatal(err)
	}
	got := out.screen()
	if strings.Contains(got, "Echo from") || !strings.Contains(got, "I couldn't answer") {
		t.Fatalf("screen\n%s\nwant the notice without the deleted half reply", got)
	}
}

// A voice's MP3 attached by the last edit of a reply's first message,
// after its second was posted and the user typed, shows as attached to
// that first message, named by its tag.
func TestShowTerminalAttachmentNamesItsMessage(t *testing.T) {
	out := &lockedVT{vt: vt{cols: 400}}
	c, session, hook := terminalChat(t, out)
	post := func(text string) *discordgo.Message {
		m, err := session.WebhookExecute(hook.ID, hook.Token, true, &discordgo.WebhookParams{Content: text, Username: "Tzurot Voice"})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := post("part one")
	c.println("you: hello")
	post("part two")
	content := "part one"
	if _, err := session.WebhookMessageEdit(hook.ID, hook.Token, first.ID, &discordgo.WebhookEdit{Content: &content,
		Files: []*discordgo.File{{Name: "voice.mp3", ContentType: "audio/mpeg", Reader: bytes.NewReader([]byte("ID3"))}}}); err != nil {
		t.Fatal(err)
	}
	tagged := "Tzurot Voice #" + first.ID[len(first.ID)-4:]
	lines := strings.Split(out.screen(), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "📎 attached to "+tagged+": [attachment voice.mp3, audio/mpeg") {
		t.Fatalf("screen\n%s\nwant its last line the MP3 attached to %s", out.screen(), tagged)
	}
}
