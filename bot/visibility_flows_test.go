//go:build integration

package bot_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/internal/config"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// reply has user mention a personality in #general and waits for the
// outcome; it returns the workflow id.
func (w *world) reply(t *testing.T, userID, content, outcome string) string {
	t.Helper()
	m := w.say(userID, general, guildID, content)
	if res := w.replyResult(t, m.ID); res.Outcome != outcome {
		t.Fatalf("%q ended %q, want %q", content, res.Outcome, outcome)
	}
	return workflows.GenerateReplyID(m.ID)
}

// kerachReplies has alice store her key with /wallet set and mention
// Kerach once; it returns the reply's workflow id.
func (w *world) kerachReplies(t *testing.T) string {
	t.Helper()
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	seedKerach(t, w)
	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set: %q", told)
	}
	return w.reply(t, alice, "@kerach how cold is it?", workflows.ReplyReplied)
}

// The screenshot-worthy check: after one reply, the Web UI's list
// filtered by TzurotUser finds it, and its page shows its summary, its
// details, its current details and what it learned.
func TestWebUIFindsAReplyByItsUser(t *testing.T) {
	w := attributesWorld(t, itest.Options{})
	id := w.kerachReplies(t)

	w.untilListed(t, `TzurotUser="`+alice+`"`, []string{id, workflows.ValidateAPIKeyID(alice, "openrouter")}, nil)
	s := w.shown(t, id)
	if s.summary != "user001 → cold-kerach" {
		t.Errorf("summary %q", s.summary)
	}
	if !strings.Contains(s.details, "https://discord.com/channels/"+guildID+"/"+general+"/") || !strings.Contains(s.details, alice) {
		t.Errorf("static details %q", s.details)
	}
	wantCurrent := "**user001 → Kerach** — done: replied\n\nmodel anthropic/claude-sonnet-4 · user key · "
	if !strings.HasPrefix(s.current, wantCurrent) || !strings.HasSuffix(s.current, " tokens") {
		t.Errorf("current details %q, want %q… tokens", s.current, wantCurrent)
	}
	for name, want := range map[string]string{
		"TzurotUser": alice, "TzurotPersonality": "cold-kerach", "TzurotModel": "anthropic/claude-sonnet-4",
		"TzurotKeySource": "user", "TzurotOutcome": "replied",
	} {
		if s.attrs[name] != want {
			t.Errorf("%s = %q, want %q (all: %v)", name, s.attrs[name], want, s.attrs)
		}
	}
	if s.attrs["TzurotTokens"] == "" || s.attrs["TzurotTokens"] == "0" {
		t.Errorf("TzurotTokens = %q", s.attrs["TzurotTokens"])
	}
	if !strings.Contains(strings.Join(s.eventSummaries, "\n"), "ask Kerach's model for the reply") {
		t.Errorf("activity summaries %q", s.eventSummaries)
	}
	if k := w.shown(t, workflows.ValidateAPIKeyID(alice, "openrouter")); k.summary != "user001 · /wallet set · OpenRouter key" ||
		k.attrs["TzurotOutcome"] != workflows.KeyStored || k.attrs["TzurotKeySource"] != "user" {
		t.Errorf("the key check shows %q, %v", k.summary, k.attrs)
	}
}

// On a namespace nobody set up (the default namespace of the tests' dev
// server has none of the attributes), a reply still succeeds: the bot
// starts it with none, and it upserts none.
func TestReplyOnANamespaceWithoutTheAttributes(t *testing.T) {
	w := newWorld(t, itest.Options{})
	id := w.kerachReplies(t)
	s := w.shown(t, id)
	for name := range s.attrs {
		if strings.HasPrefix(name, "Tzurot") {
			t.Errorf("search attribute %s set on a namespace without it", name)
		}
	}
	if s.summary != "user001 → cold-kerach" || !strings.Contains(s.current, "done: replied") {
		t.Errorf("summary %q, current details %q", s.summary, s.current)
	}
}

// filterRows are the README's list filters: the backquoted query in each
// row between the filters markers.
var filterRow = regexp.MustCompile("(?m)^\\|.*\\| `([^`]+)` \\|$")

func readmeFilters(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "<!-- filters:begin")
	section, _, ok2 := strings.Cut(section, "<!-- filters:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- filters:begin … --> … <!-- filters:end --> section")
	}
	var out []string
	for _, m := range filterRow.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) < 5 {
		t.Fatalf("README.md lists %d filters, want at least 5", len(out))
	}
	return out
}

// Every list filter the README shows finds the workflows it says and none
// of the others, run as written against the dev server, after replies that
// match and replies that do not.
func TestReadmeListFiltersFindWhatTheySay(t *testing.T) {
	w := attributesWorld(t, itest.Options{GuestMode: config.GuestFree, OperatorKey: operator})
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
	w.OpenRouter.AddKey(operator, fakeopenrouter.Key{})
	seedKerach(t, w)
	ctx := context.Background()
	pip := w.DB.Personality.Create().SetName("pip").SetDisplayName("Pip").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(pip.ID).SetModel("meta-llama/llama-3.3-70b-instruct:free").ExecX(ctx)
	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set: %q", told)
	}
	keyCheck := workflows.ValidateAPIKeyID(alice, "openrouter")
	short := w.reply(t, alice, "@kerach hi", workflows.ReplyReplied)
	w.OpenRouter.Script(aliceKey, fakeopenrouter.Fail(400))
	failed := w.reply(t, alice, "@kerach hi again", workflows.ReplyFailed)
	long := w.reply(t, alice, "@kerach "+strings.Repeat("tell me about the cold. ", 250), workflows.ReplyReplied)
	guest := w.reply(t, bob, "@pip hello", workflows.ReplyReplied)
	noKey := w.reply(t, carol, "@kerach hello", workflows.ReplyNoKey)
	everything := []string{keyCheck, short, failed, long, guest, noKey}

	// What each filter must find; the rest of everything it must not.
	finds := map[string][]string{
		`TzurotUser="` + alice + `"`:                                      {keyCheck, short, failed, long},
		`TzurotUser="` + alice + `" AND TzurotOutcome="failed"`:           {failed},
		`TzurotKeySource="operator"`:                                      {guest},
		`TzurotKeySource="none"`:                                          {noKey},
		`TzurotModel="anthropic/claude-sonnet-4" AND TzurotTokens > 1000`: {long},
		`WorkflowType="GenerateReply" AND TzurotPersonality="cold-kerach" AND StartTime > "2026-11-30T00:00:00Z"`: {short, failed, long, noKey},
	}
	for _, query := range readmeFilters(t) {
		want, ok := finds[query]
		if !ok {
			t.Errorf("README filter %s has no expectation here: add what it finds to finds", query)
			continue
		}
		delete(finds, query)
		var not []string
		for _, id := range everything {
			if !slices.Contains(want, id) {
				not = append(not, id)
			}
		}
		w.untilListed(t, query, want, not)
	}
	for query := range finds {
		t.Errorf("filter %s is tested but not in the README", query)
	}
}

// No key, no token and no message content in anything the Web UI shows
// about a workflow: summaries, details, current details, search attributes,
// activity summaries.
func TestNoKeyOrContentInWhatTheWebUIShows(t *testing.T) {
	w := attributesWorld(t, itest.Options{})
	seedKerach(t, w)
	seedPainter(t, w, true)
	if told := w.setKey(t, alice, aliceKey); !strings.Contains(told, "works and is saved") {
		t.Fatalf("/wallet set: %q", told)
	}
	const content = "the vault code is zebra-4471-hunter"
	id := w.reply(t, alice, "@kerach "+content, workflows.ReplyReplied)
	ic := w.slash(alice, "imagine", "", str("prompt", "a drawing of "+content), str("personality", "painter"))
	imagine := workflows.ImagineImageID(ic.ID)
	w.untilListed(t, `TzurotUser="`+alice+`" AND TzurotOutcome IN ("replied", "posted")`, []string{id, imagine}, nil)
	secrets := []string{aliceKey, content, "zebra-4471", w.Config.DiscordToken.Reveal(), ic.Token}
	summaries := 0
	for _, wf := range []string{id, workflows.ValidateAPIKeyID(alice, "openrouter"), imagine} {
		s := w.shown(t, wf)
		summaries += len(s.eventSummaries)
		if s.summary == "" || s.current == "" || len(s.attrs) == 0 {
			t.Fatalf("%s shows nothing to scan: %+v", wf, s)
		}
		for _, secret := range secrets {
			if strings.Contains(s.text(), secret) {
				t.Errorf("%s shows %q", wf, secret)
			}
		}
	}
	if s := w.shown(t, imagine); s.summary != "user001 → painter · /imagine" || s.attrs["TzurotModel"] != imageModel ||
		s.attrs["TzurotPersonality"] != "painter" || !strings.HasPrefix(s.current, "**/imagine by user "+alice+" → Painter** — done: posted") {
		t.Errorf("/imagine shows %q, %q, %v", s.summary, s.current, s.attrs)
	}
	if summaries < 4 {
		t.Errorf("%d event summaries scanned, want the activities' at least", summaries)
	}
}

// /data delete's workflow says whose data it deletes, how far it is, and
// what each step clears.
func TestDataDeleteShowsWhoseAndHowFar(t *testing.T) {
	w := newWorld(t, itest.Options{})
	w.kerachReplies(t)
	_, buttons := w.answer(t, w.slash(alice, "data", "delete"))
	if len(buttons) != 2 {
		t.Fatalf("buttons %v", buttons)
	}
	mustContainAnswer(t, w, w.press(alice, buttons[0]), "Deleting everything")
	s := w.shown(t, workflows.DeleteUserDataID(alice))
	if s.summary != "/data delete · user "+alice || !strings.HasPrefix(s.current, "**deleting the data of user "+alice+"** — done\n\n") ||
		!strings.Contains(strings.Join(s.eventSummaries, "\n"), "clear the user's rows in user_api_keys") {
		t.Errorf("DeleteUserData shows %q, %q, %q", s.summary, s.current, s.eventSummaries)
	}
}
