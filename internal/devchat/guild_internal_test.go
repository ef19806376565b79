package devchat

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

func chatWithGuild() *Chat {
	c := &Chat{guild: newGuild("1100000000000000001", "Tzurot")}
	c.addChannelName("#random")
	return c
}

// addChannelName is addChannel without a stand-in or bot to tell.
func (c *Chat) addChannelName(name string) {
	_, id := channelNamed(name)
	c.guild.access.Channels[id] = nil
	c.guild.access.ChannelNames[id] = name[1:]
}

// Typed @member, @&role and #channel become Discord's mentions when the
// guild has them; a personality's @alias, an unknown #word, #staff (which
// you cannot see), a URL's #fragment and an e-mail stay as typed.
func TestWithMentions(t *testing.T) {
	c := chatWithGuild()
	_, random := channelNamed("random")
	for in, want := range map[string]string{
		"@demo hi @you and @ROSA":                 "@demo hi <@" + ChatUserID + "> and <@" + ChatOwnerID + ">",
		"@Tzurot, see #general and #random.":      "<@1100000000000000001>, see <#" + ChatChannelID + "> and <#" + random + ">.",
		"role @&regulars not @&nobody":            "role <@&" + ChatRegularsRole + "> not @&nobody",
		"#staff #games @tzurot-demo":              "#staff #games @tzurot-demo",
		"https://x.org/#general me@you (#random)": "https://x.org/#general me@you (<#" + random + ">)",
	} {
		if got := c.withMentions(in); got != want {
			t.Errorf("withMentions(%q) = %q, want %q", in, got, want)
		}
	}
}

// The chat shows mentions by the names the stand-in's guild holds; one it
// does not know stays as Discord wrote it, never an invented name.
func TestRenderMessageNamesMentions(t *testing.T) {
	c := chatWithGuild()
	_, random := channelNamed("random")
	got := renderMessage(fakediscord.Message{Content: "<@" + ChatUserID + "> <@!" + ChatOwnerID + "> <#" + random + "> <#" + ChatChannelID +
		"> <@&" + ChatRegularsRole + "> <@&" + ChatGuildID + "> <#123456789012345678> <@123456789012345678>"}, c.mentionName)
	want := "@sam @rosa #random #general @regulars @everyone <#123456789012345678> <@123456789012345678>"
	if got != want {
		t.Errorf("renderMessage = %q, want %q", got, want)
	}
}

// /link gives a link to a message in a channel you cannot read (#staff),
// as the product follows one only where the speaker reads, but never its
// author or text: the chat shows you nothing of #staff, as Discord would
// not, neither through /link nor as a post there.
func TestChatShowsNothingOfAChannelYouCannotRead(t *testing.T) {
	var out strings.Builder
	c := chatWithGuild()
	c.opts = ChatOptions{Discord: fakediscord.New(fakediscord.Options{}), Out: &out}
	c.shown, c.lastPost = map[string]string{}, map[string]*discordgo.Message{}
	c.screen = newScreen(false, c.columns)
	_, staff := channelNamed(chatStaffChannel)
	m, err := c.opts.Discord.RecordUserMessage(fakediscord.UserMessage{ChannelID: staff, GuildID: ChatGuildID,
		Author: fakediscord.User{ID: ChatOwnerID, Username: ChatOwnerName}, Content: chatStaffGreeting})
	if err != nil {
		t.Fatal(err)
	}
	c.link("#staff")
	c.link("#staff 2")
	c.Show(m)
	got := out.String()
	if !strings.Contains(got, "/"+staff+"/"+m.ID) || !strings.Contains(got, "You cannot read #staff") {
		t.Errorf("/link #staff printed %q: want the link and that you cannot read #staff", got)
	}
	if strings.Contains(got, "launch moves to Friday") || strings.Contains(got, ChatOwnerName) {
		t.Errorf("the chat showed #staff's message, which you cannot read:\n%s", got)
	}
}
