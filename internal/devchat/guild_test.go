//go:build integration

package devchat_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

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
