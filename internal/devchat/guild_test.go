//go:build integration

package devchat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/devchat"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	"github.com/tzurot/tzurot/internal/testwait"
)

var linkRE = regexp.MustCompile(`https://discord\.com/channels/\d+/\d+/\d+`)

// lastLink waits for the chat to show a message link after the output it
// had at mark, and returns it.
func lastLink(t *testing.T, out *buffer, mark int) string {
	t.Helper()
	var link string
	testwait.Until(t, "the chat to print a message link", func() bool {
		link = linkRE.FindString(out.String()[mark:])
		return link != ""
	})
	return link
}

// The offline server is one Discord would serve: a link to your message in
// #general, got with /link, reaches the model quoted with its author; a
// link to #staff (which you cannot read; the bot can) is not followed; and
// @sam, #general, #random and @&regulars typed in the chat become Discord's
// mentions, which reach the model as names, not ids.
func TestChatFollowsLinksAndNamesMentions(t *testing.T) {
	s, out, _, say := chatWorldTyping(t)
	say("/wallet set")
	say(chatKey)
	say("@demo the launch code is swordfish")
	waitForOutput(t, out, "works and is saved", "Demo: Echo from")

	mark := len(out.String())
	say("/link 2")
	general := lastLink(t, out, mark)
	if !strings.Contains(out.String()[mark:], "you: @demo the launch code is swordfish") {
		t.Fatalf("/link 2 did not name your message:\n%s", out.String()[mark:])
	}
	mark = len(out.String())
	say("/link #staff")
	staff := lastLink(t, out, mark)
	waitForOutput(t, out, "You cannot read #staff")

	say("/channel staff")
	waitForOutput(t, out, "You cannot see #staff")
	say("/channel random")
	waitForOutput(t, out, "You are in #random.")
	say("@demo look at " + general + " and " + staff + " with @sam in #general and #random, role @&regulars")

	var req chatRequest
	testwait.Until(t, "the model to be asked about the links", func() bool {
		for _, c := range s.OpenRouter.CallsFor(chatKey) {
			var r chatRequest
			if strings.HasSuffix(c.Path, "/chat/completions") && json.Unmarshal(c.Body, &r) == nil && len(r.Messages) > 0 &&
				strings.Contains(r.Messages[len(r.Messages)-1].Content, "look at") {
				req = r
				return true
			}
		}
		return false
	})
	last := req.Messages[len(req.Messages)-1].Content
	if !strings.Contains(last, "[Linked message by you, ") || !strings.Contains(last, "the launch code is swordfish") {
		t.Errorf("the #general message linked is not quoted with its author:\n%s", last)
	}
	body, _ := json.Marshal(req)
	if strings.Contains(string(body), "launch moves to Friday") {
		t.Errorf("the #staff message you cannot read reached the model:\n%s", last)
	}
	for _, name := range []string{"@sam", "#general", "#random", "@regulars"} {
		if !strings.Contains(last, name) {
			t.Errorf("%s is not named in the request:\n%s", name, last)
		}
	}
	if m := regexp.MustCompile(`<(@!?|@&|#)\d+>`).FindString(last); m != "" {
		t.Errorf("the mention %s reached the model as an id:\n%s", m, last)
	}
	if logs := s.Logs.String(); strings.Contains(logs, "Unknown Channel") || strings.Contains(logs, "Unknown Guild") ||
		strings.Contains(logs, "Unknown Member") || strings.Contains(logs, "Unknown Message") {
		t.Errorf("the stand-in answered 404 for something the chat has:\n%s", logs)
	}
}

// Every Discord REST call the product makes during a chat — replies, a
// reply chain, links, mentions, an image, /data export, a DM — is answered
// by the stand-in as Discord would answer it for what the chat holds: no
// 404 (unknown channel, guild, member, message or route) and no 403.
func TestChatStandInAnswersEveryRoute(t *testing.T) {
	in, typing := io.Pipe()
	t.Cleanup(func() { typing.Close() })
	var dc *fakediscord.Server
	s, out, done := chatWorldWith(t, in, func(o *devchat.ChatOptions) { dc = o.Discord })
	say := func(line string) {
		t.Helper()
		if _, err := fmt.Fprintln(typing, line); err != nil {
			t.Fatal(err)
		}
	}
	replied := func(n int) {
		t.Helper()
		testwait.Until(t, fmt.Sprintf("%d replies", n), func() bool { return strings.Count(s.Logs.String(), `"msg":"replied"`) >= n })
	}
	say("/wallet set")
	say(chatKey)
	say("@demo hello @you and @Tzurot")
	replied(1)
	say("/reply why?")
	replied(2)
	say("/reply and then?")
	replied(3)
	mark := len(out.String())
	say("/link 3")
	link := lastLink(t, out, mark)
	say("/channel random")
	say("@demo see " + link + " in #general, @&regulars and @&staff")
	replied(4)
	path, _ := squarePNG(t)
	say("/attach " + path + " @demo what is it?")
	replied(5)
	say("/data export")
	say("/dm")
	say("@demo in private")
	replied(6)
	waitForOutput(t, out, "DM from")
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	routes := map[string]bool{}
	for _, r := range dc.Requests() {
		routes[r.Route] = true
		if r.Status == http.StatusNotFound || r.Status == http.StatusForbidden || r.Route == "" {
			t.Errorf("%s %s (%s) answered %d", r.Method, r.Path, r.Route, r.Status)
		}
	}
	for _, want := range []string{"GET /channels/{channel_id}", "GET /guilds/{guild_id}", "GET /guilds/{guild_id}/members/{user_id}",
		"GET /guilds/{guild_id}/channels", "GET /channels/{channel_id}/messages/{message_id}"} {
		if !routes[want] {
			t.Errorf("the chat never called %s; called %v", want, routes)
		}
	}
}

// squarePNG writes a 5×5 grey PNG, square.png, in a temporary directory:
// its path and bytes.
func squarePNG(t *testing.T) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 5, 5))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "square.png")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b.Bytes()
}
