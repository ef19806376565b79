//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/tzurot/tzurot/ent/conversationhistory"
	"github.com/tzurot/tzurot/ent/llmconfig"
	"github.com/tzurot/tzurot/ent/usagelog"
	"github.com/tzurot/tzurot/internal/config"
	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/workflows"
)

// testPNG is a small PNG whose bytes differ by seed.
func testPNG(t *testing.T, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = seed + uint8(i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// animatedGIF has two frames.
func animatedGIF(t *testing.T) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	frames := []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 2, 2), pal), image.NewPaletted(image.Rect(0, 0, 2, 2), pal)}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: frames, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postImages has alice post files in the channel, as on Discord, and
// returns the message id and its attachments as the gateway event gives
// them (signed URLs).
func postImages(t *testing.T, s *itest.Stack, content string, files ...fakediscord.File) (string, []workflows.Attachment) {
	t.Helper()
	m, _ := s.Discord.PostUserMessage(fakediscord.UserMessage{ // no gateway session here: the event goes nowhere
		ChannelID: channelID, Author: fakediscord.User{ID: aliceID, Username: "alice"}, Content: content, Files: files,
	})
	if m.ID == "" {
		t.Fatal("message not posted")
	}
	var out []workflows.Attachment
	for _, a := range m.Attachments {
		out = append(out, workflows.Attachment{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, URL: fakediscord.SignedURL(a)})
	}
	return m.ID, out
}

// replyWithImages runs GenerateReply for alice's message with attachments.
func replyWithImages(t *testing.T, s *itest.Stack, messageID, content string, atts []workflows.Attachment) workflows.GenerateReplyResult {
	t.Helper()
	run, err := s.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: workflows.GenerateReplyID(messageID), TaskQueue: s.TaskQueue,
	}, workflows.GenerateReplyName, workflows.GenerateReplyInput{
		RequestID: messageID, DiscordUserID: aliceID, Username: "alice", Personality: "kerach",
		ChannelID: channelID, MessageID: messageID, Content: content, Attachments: atts,
	})
	if err != nil {
		t.Fatal(err)
	}
	return result(t, run)
}

// askWithImage has alice send text with one PNG (made from seed) as name,
// and waits for the reply. It returns the image's bytes and the message id.
func askWithImage(t *testing.T, s *itest.Stack, seed uint8, name, text string) ([]byte, string) {
	t.Helper()
	pic := testPNG(t, seed)
	id, atts := postImages(t, s, text, fakediscord.File{Name: name, ContentType: "image/png", Data: pic})
	if res := replyWithImages(t, s, id, text, atts); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %s", res.Outcome)
	}
	return pic, id
}

// chatCalls are the stand-in's chat completions.
func chatCalls(s *itest.Stack) []fakeopenrouter.Call {
	var out []fakeopenrouter.Call
	for _, c := range s.OpenRouter.Calls() {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			out = append(out, c)
		}
	}
	return out
}

// lastUserText is the text of the last user message of a chat request.
func lastUserText(t *testing.T, c fakeopenrouter.Call) string {
	t.Helper()
	var body struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		}
	}
	if err := json.Unmarshal(c.Body, &body); err != nil {
		t.Fatal(err)
	}
	last := body.Messages[len(body.Messages)-1]
	var text string
	if json.Unmarshal(last.Content, &text) == nil {
		return text
	}
	var parts []struct{ Type, Text string }
	_ = json.Unmarshal(last.Content, &parts)
	for _, p := range parts {
		text += p.Text
	}
	return text
}

func lastPost(t *testing.T, s *itest.Stack) string {
	t.Helper()
	msgs := s.Discord.Messages(channelID)
	return msgs[len(msgs)-1].Content
}

// A model that takes images gets them as image_url parts, as data URLs of
// the bytes fetched from the CDN; the bytes never enter workflow history.
func TestImageGoesToVisionModel(t *testing.T) {
	s := userKeyStack(t, itest.Options{}, "anthropic/claude-sonnet-4")
	pic, id := askWithImage(t, s, 1, "cat.png", "what is this?")
	calls := chatCalls(s)
	if len(calls) != 1 || calls[0].Model != "anthropic/claude-sonnet-4" {
		t.Fatalf("chat calls %+v, want one to the personality's model", calls)
	}
	b64 := base64.StdEncoding.EncodeToString(pic)
	if len(calls[0].Images) != 1 || calls[0].Images[0] != "data:image/png;base64,"+b64 {
		t.Fatalf("image parts %v, want the PNG as a data URL", calls[0].Images)
	}
	if got := lastUserText(t, calls[0]); !strings.Contains(got, "what is this?") || !strings.Contains(got, "cat.png") {
		t.Errorf("text part %q", got)
	}
	if post := lastPost(t, s); !strings.Contains(post, fakeopenrouter.ImageDigest(pic)) {
		t.Errorf("reply %q does not show the model saw the image", post)
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID(id)}, b64, "data:image/png")
}

// A model that takes no images gets the vision model's description of
// them; that call is billed like any. The personality's vision_model wins
// over VISION_MODEL.
func TestImageDescribedForTextModel(t *testing.T) {
	s := userKeyStack(t, itest.Options{}, "deepseek/deepseek-r1")
	pic, id := askWithImage(t, s, 2, "dog.png", "look")
	calls := chatCalls(s)
	if len(calls) != 2 || calls[0].Model != s.Config.VisionModel || calls[1].Model != "deepseek/deepseek-r1" {
		t.Fatalf("chat calls %+v, want VISION_MODEL then the personality's", calls)
	}
	if len(calls[0].Images) != 1 || len(calls[1].Images) != 0 {
		t.Fatalf("images: %d to the vision model, %d to the text model", len(calls[0].Images), len(calls[1].Images))
	}
	if got := lastUserText(t, calls[1]); !strings.Contains(got, fakeopenrouter.DescribeImages(calls[0].Images)) {
		t.Errorf("the text model was not given the description: %q", got)
	}
	ctx := context.Background()
	if n := s.DB.UsageLog.Query().Where(usagelog.Model(s.Config.VisionModel)).CountX(ctx); n != 1 {
		t.Errorf("%d usage rows for the description, want 1", n)
	}
	s.AssertNoSecrets(t, []string{workflows.GenerateReplyID(id)}, base64.StdEncoding.EncodeToString(pic))

	s.DB.LLMConfig.Update().Where(llmconfig.Model("deepseek/deepseek-r1")).SetVisionModel("anthropic/claude-sonnet-4").ExecX(ctx)
	askWithImage(t, s, 2, "dog.png", "again")
	if calls := chatCalls(s); calls[2].Model != "anthropic/claude-sonnet-4" {
		t.Errorf("description by %s, want the personality's vision_model", calls[2].Model)
	}
}

// An expired attachment URL (404 from the CDN) is refreshed by fetching
// the message again.
func TestImageExpiredURLRefetched(t *testing.T) {
	s := userKeyStack(t, itest.Options{}, "anthropic/claude-sonnet-4")
	pic := testPNG(t, 3)
	id, atts := postImages(t, s, "old picture", fakediscord.File{Name: "old.png", ContentType: "image/png", Data: pic})
	s.Discord.ExpireAttachmentURLs()

	if res := replyWithImages(t, s, id, "old picture", atts); res.Outcome != workflows.ReplyReplied {
		t.Fatalf("outcome %s", res.Outcome)
	}
	var expired, refetched bool
	for _, r := range s.Discord.Requests() {
		expired = expired || (strings.HasPrefix(r.Route, "GET /attachments/") && r.Status == 404)
		refetched = refetched || (r.Route == "GET /channels/{channel_id}/messages/{message_id}" && strings.HasSuffix(r.Path, "/"+id))
	}
	if !expired || !refetched {
		t.Errorf("expired URL tried: %v; message fetched again: %v", expired, refetched)
	}
	if calls := chatCalls(s); len(calls) != 1 || len(calls[0].Images) != 1 {
		t.Fatalf("chat calls %+v, want the image sent after the refetch", calls)
	}
}

// A message with an image and no text is answered, on the operator's key
// for a guest as GUEST_MODE allows (a free model describes it).
func TestImageOnlyMessageAnswered(t *testing.T) {
	s := itest.New(t, itest.Options{GuestMode: config.GuestFree, OperatorKey: operatorKey})
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	seedPersonality(t, s, "meta-llama/llama-3.3-70b-instruct:free")
	askWithImage(t, s, 4, "sky.png", "")
	calls := chatCalls(s)
	if len(calls) != 2 || calls[0].Key != operatorKey || calls[0].Model != s.Config.VisionModel {
		t.Fatalf("chat calls %+v", calls)
	}
	turn := s.DB.ConversationHistory.Query().Where(conversationhistory.Role("user")).OnlyX(context.Background())
	if !strings.Contains(turn.Content, "sky.png") {
		t.Errorf("saved user turn %q does not name the image", turn.Content)
	}
}

// Past the limits, the reply says which limit and calls no model.
func TestImageLimitsRefused(t *testing.T) {
	s := userKeyStack(t, itest.Options{}, "anthropic/claude-sonnet-4")
	var five []fakediscord.File
	for i := range 5 {
		five = append(five, fakediscord.File{Name: "p.png", ContentType: "image/png", Data: testPNG(t, uint8(i))})
	}
	type refusal struct {
		name, id string
		atts     []workflows.Attachment
		want     string
	}
	id, atts := postImages(t, s, "many", five...)
	cases := []refusal{{"count", id, atts, "4 at most"}}

	id, atts = postImages(t, s, "moving", fakediscord.File{Name: "spin.gif", ContentType: "image/gif", Data: animatedGIF(t)})
	cases = append(cases, refusal{"animated", id, atts, "animated GIF"})

	id, atts = postImages(t, s, "huge", fakediscord.File{Name: "big.png", ContentType: "image/png", Data: testPNG(t, 9)})
	atts[0].Size = 11 << 20 // as Discord reports it
	cases = append(cases, refusal{"size", id, atts, "10 MiB at most"})

	for _, tc := range cases {
		res := replyWithImages(t, s, tc.id, "look", tc.atts)
		if res.Outcome != workflows.ReplyFailed {
			t.Errorf("%s: outcome %s", tc.name, res.Outcome)
		}
		if post := lastPost(t, s); !strings.Contains(post, tc.want) || !strings.Contains(post, "<@"+aliceID+">") {
			t.Errorf("%s: posted %q, want it to say %q", tc.name, post, tc.want)
		}
	}
	if calls := chatCalls(s); len(calls) != 0 {
		t.Errorf("%d chat calls for refused images", len(calls))
	}
}

// The description is paid like the reply: a refused user key ends the
// request as the reply's would (key switched off), and the operator's key
// is never used in its place.
func TestImageDescriptionNeverFallsBackToOperatorKey(t *testing.T) {
	s := userKeyStack(t, itest.Options{GuestMode: config.GuestAll, OperatorKey: operatorKey}, "deepseek/deepseek-r1")
	s.OpenRouter.AddKey(operatorKey, fakeopenrouter.Key{})
	s.OpenRouter.Revoke(userKey)
	id, atts := postImages(t, s, "", fakediscord.File{Name: "x.png", ContentType: "image/png", Data: testPNG(t, 5)})
	if res := replyWithImages(t, s, id, "see", atts); res.Outcome != workflows.ReplyKeyRejected {
		t.Fatalf("outcome %s, want %s", res.Outcome, workflows.ReplyKeyRejected)
	}
	for _, c := range s.OpenRouter.Calls() {
		if c.Key == operatorKey && !strings.HasSuffix(c.Path, "/models") {
			t.Errorf("the operator's key paid for %s after the user's key failed", c.Path)
		}
	}
}
