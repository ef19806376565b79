//go:build integration

package devchat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tzurot/tzurot/ent/personality"
	"github.com/tzurot/tzurot/ent/user"
	"github.com/tzurot/tzurot/internal/devchat"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/memory"
)

// A script piped at once runs in order even when every answer is slow (a
// loaded machine): each line is read only after the replies it started
// were shown. A line addressing no one says so; /prompt then shows what the
// model was given for the last reply.
func TestChatScriptRunsInOrderWhenAnswersAreSlow(t *testing.T) {
	const n = 12
	var script strings.Builder
	script.WriteString("/wallet set\n" + chatKey + "\nhello everyone\n")
	for i := range n {
		fmt.Fprintf(&script, "@demo topic number %d\n", i)
	}
	script.WriteString("/prompt\n")
	s, out, done := chatWorldWith(t, strings.NewReader(script.String()), func(*devchat.ChatOptions) {})
	steps := make([]fakeopenrouter.Step, 4*n)
	for i := range steps {
		steps[i] = fakeopenrouter.Delay(700 * time.Millisecond) // past the old 300 ms grace
	}
	s.OpenRouter.Script(chatKey, steps...)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	text := out.String()
	at := func(s string) int {
		t.Helper()
		i := strings.Index(text, s)
		if i < 0 {
			t.Fatalf("the transcript lacks %q", s)
		}
		return i
	}
	at("you: hello everyone\n(no personality addressed: mention one to talk to it, e.g. @demo hello)")
	for i := range n {
		asked := at(fmt.Sprintf("you: @demo topic number %d\n", i))
		answered := at(fmt.Sprintf("you: @demo topic number %d\n", i) + "Demo: Echo from")
		if answered != asked {
			t.Errorf("the reply to topic %d is not the next thing shown after it", i)
		}
	}
	prompt := text[at("you: /prompt"):]
	for _, want := range []string{"(only you) The last chat request gave", "system: You are a demo.",
		fmt.Sprintf("@demo topic number %d", n-1)} {
		if !strings.Contains(prompt, want) {
			t.Errorf("/prompt lacks %q:\n%s", want, prompt)
		}
	}
	if strings.Contains(prompt, chatKey) {
		t.Error("/prompt shows the key")
	}
}

// /memory list's pages say their number and which is the last; once the
// last page is shown the Next page button is gone, so /press has nothing to
// press, as on Discord; /press alone lists the labels shown.
func TestChatPagesMemories(t *testing.T) {
	s, out, done, say := chatWorldTyping(t)
	say("/timezone set zone:Europe/Paris")
	waitForOutput(t, out, "(only you)")
	ctx := context.Background()
	u := s.DB.User.Query().Where(user.DiscordID(devchat.ChatUserID)).OnlyX(ctx)
	p := s.DB.Personality.Query().Where(personality.Name("demo")).OnlyX(ctx)
	idx := memory.NewPostgres(s.Activities.SQL, memory.Options{})
	for i := range 12 {
		if _, err := idx.Add(ctx, memory.Memory{PersonalityID: p.ID, UserID: u.ID, Model: "m",
			Content: fmt.Sprintf("memory %d", i), Embedding: []float32{1, float32(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	say("/memory list personality:demo")
	waitForOutput(t, out, "Page 1; Next page shows more.", "[Next page]")
	say("/press")
	waitForOutput(t, out, "Press one of the latest buttons shown: /press Next page.")
	say("/press Previous")
	waitForOutput(t, out, "No button is labelled “Previous”; the latest buttons shown are: Next page.")
	say("/press Next page")
	waitForOutput(t, out, "Page 2 is the last.")
	say("/press Next page")
	waitForOutput(t, out, "No button to press: the latest message shown has none left.")
	say("quit")
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := strings.Count(out.String(), "Page 2 is the last."); n != 1 {
		t.Errorf("page 2 shown %d times", n)
	}
}
