//go:build integration

package bot_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/tzurot/tzurot/ent/usagelog"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
	"github.com/tzurot/tzurot/internal/testwait"
	"github.com/tzurot/tzurot/workflows"
)

const imageModel = "google/gemini-2.5-flash-image-preview"

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

func seedPainter(t *testing.T, w *world, enabled bool) {
	t.Helper()
	ctx := context.Background()
	p := w.DB.Personality.Create().SetName("painter").SetDisplayName("Painter").SaveX(ctx)
	w.DB.LLMConfig.Create().SetPersonalityID(p.ID).SetModel("anthropic/claude-sonnet-4").ExecX(ctx)
	w.DB.ImageConfig.Create().SetPersonalityID(p.ID).SetModel(imageModel).SetEnabled(enabled).
		SetAdvancedParameters(map[string]any{"promptPrefix": "watercolour of", "negativePrompt": "text"}).ExecX(ctx)
	w.storeOwnKey(t, alice, aliceKey)
}

// /imagine end to end: a public deferral, then the picture as an attachment
// of the follow-up with exactly the bytes the model returned, one usage row,
// and no image bytes or key anywhere in the workflow's history.
func TestImagineEndToEnd(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedPainter(t, w, true)

	ic := w.slash(alice, "imagine", "", str("prompt", "a fox in the snow"), str("personality", "painter"), str("size", "512x512"))
	resp := w.responses(ic)
	if len(resp) != 1 || resp[0]["type"] != float64(5) {
		t.Fatalf("/imagine responded %v, want one deferral (type 5)", resp)
	}
	if data, _ := resp[0]["data"].(map[string]any); data != nil {
		if f, _ := data["flags"].(float64); int(f)&64 != 0 {
			t.Fatal("the deferral is ephemeral: the image is for the channel")
		}
	}
	testwait.Until(t, "the follow-up", func() bool { return len(w.Discord.FollowUps(ic.Token)) == 1 })
	fu := w.Discord.FollowUps(ic.Token)[0]
	if fu.Ephemeral() || len(fu.Attachments) != 1 {
		t.Fatalf("follow-up %+v", fu)
	}
	img := fu.Attachments[0]
	if !bytes.HasPrefix(img.Data, pngSignature) || img.ContentType != "image/png" || !strings.HasSuffix(img.Filename, ".png") {
		t.Fatalf("attachment %s (%s), %d bytes, starts %q", img.Filename, img.ContentType, len(img.Data), img.Data[:min(8, len(img.Data))])
	}

	// The provider was asked for an image, with the prefix and negative prompt, on alice's key.
	var chat *fakeopenrouter.Call
	for _, c := range w.OpenRouter.CallsFor(aliceKey) {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			c := c
			chat = &c
		}
	}
	if chat == nil {
		t.Fatal("no chat call on alice's key")
	}
	body := string(chat.Body)
	for _, want := range []string{`"modalities":["image","text"]`, "watercolour of a fox in the snow", "512x512", "Avoid: text"} {
		if !strings.Contains(body, want) {
			t.Errorf("request body lacks %q: %s", want, body)
		}
	}

	ctx := context.Background()
	rows := w.DB.UsageLog.Query().AllX(ctx)
	if len(rows) != 1 || rows[0].RequestType != usagelog.RequestTypeImage || rows[0].TokensTotal != 1000 || rows[0].Model != imageModel {
		t.Fatalf("usage rows %+v", rows)
	}
	// The stand-in charges the model's $0.001238 per image plus its tokens.
	if c := rows[0].CostUsd; c == nil || *c < 0.001238 || *c > 0.01 {
		t.Errorf("the image's cost %v, want the stand-in's: $0.001238 for the image and its tokens", c)
	}

	// The workflow's history holds neither the image nor the key.
	id := workflows.ImagineImageID(ic.ID)
	var res workflows.ImagineImageResult
	if err := w.Client.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.ImaginePosted || res.DiscordMessageID != fu.ID {
		t.Fatalf("result %+v, follow-up %s", res, fu.ID)
	}
	b64 := base64.StdEncoding.EncodeToString(img.Data)
	w.AssertNoSecretsAnywhere(t, 1, "iVBORw0KGgo", b64[len(b64)/2:len(b64)/2+40], aliceKey)
}

// What /imagine cannot do is refused at once, privately and in one line that
// names what is accepted, before anything is deferred or started: no
// picture of another size than asked, no public notice of a typo, and a
// personality without images names who can switch them on (no command can).
func TestImagineRefusesWhatItCannotDraw(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedPainter(t, w, true)
	ctx := context.Background()
	sizer := w.DB.Personality.Create().SetName("sizer").SetDisplayName("Sizer").SaveX(ctx)
	w.DB.ImageConfig.Create().SetPersonalityID(sizer.ID).SetModel(imageModel).SetEnabled(true).
		SetAdvancedParameters(map[string]any{"sizes": []any{"512x512", "768x1024"}}).ExecX(ctx)
	off := w.DB.Personality.Create().SetName("sketchless").SetDisplayName("Sketchless").SaveX(ctx)
	w.DB.ImageConfig.Create().SetPersonalityID(off.ID).SetModel(imageModel).SetEnabled(false).ExecX(ctx)
	w.DB.Personality.Create().SetName("no-images").SetDisplayName("Wordsmith").ExecX(ctx)

	const anySize = "give WxH with each side 256 to 2048 pixels, e.g. 1024x768."
	cases := []struct{ personality, size, want string }{
		{"painter", "100x100", `No image: size "100x100" is not accepted: ` + anySize},
		{"painter", "4096x4096", `No image: size "4096x4096" is not accepted: ` + anySize},
		{"painter", "wide", `No image: size "wide" is not accepted: ` + anySize},
		{"sizer", "1024x1024", `No image: size "1024x1024" is not accepted: this personality draws 512x512, 768x1024.`},
		{"nobody", "", "No personality is called “nobody”."},
		{"sketchless", "", "Sketchless does not make images: only the bot's operator can switch images on for a personality (no command does), so ask them or pick another personality."},
		{"no-images", "512x512", "Wordsmith does not make images: only the bot's operator can switch images on for a personality (no command does), so ask them or pick another personality."},
	}
	for _, tc := range cases {
		t.Run(tc.personality+" "+tc.size, func(t *testing.T) {
			opts := []*discordgo.ApplicationCommandInteractionDataOption{str("prompt", "a fox"), str("personality", tc.personality)}
			if tc.size != "" {
				opts = append(opts, str("size", tc.size))
			}
			ic := w.slash(alice, "imagine", "", opts...)
			if got := strings.TrimSpace(w.ephemeralText(t, ic)); got != tc.want {
				t.Errorf("told %q, want %q", got, tc.want)
			}
			if resp := w.responses(ic); len(resp) != 1 || resp[0]["type"] != float64(4) {
				t.Errorf("responded %v, want one private message (type 4) and no deferral", resp)
			}
			if _, err := w.Client.DescribeWorkflowExecution(ctx, workflows.ImagineImageID(ic.ID), ""); err == nil {
				t.Error("an ImagineImage workflow was started")
			}
		})
	}
	for _, c := range w.OpenRouter.Calls() {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			t.Fatal("a refused /imagine called the provider")
		}
	}

	// The size option offers what the chosen personality draws.
	for _, tc := range []struct {
		personality string
		want        []string
	}{{"sizer", []string{"512x512", "768x1024"}}, {"painter", []string{"1024x1024", "1024x768", "768x1024", "1536x1024", "1024x1536", "512x512"}}} {
		var got []string
		for _, c := range w.autocomplete(t, alice, "imagine", "", str("prompt", "a fox"), str("personality", tc.personality), focused("size", "")) {
			got = append(got, c.value)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("size choices for %s: %v, want %v", tc.personality, got, tc.want)
		}
	}
}

// Without personality:, a channel where nobody has talked is refused before
// anything starts.
func TestImagineNeedsAPersonality(t *testing.T) {
	w := newWorld(t, itest.Options{})
	ic := w.slash(alice, "imagine", "", str("prompt", "a fox"))
	if text := w.ephemeralText(t, ic); !strings.Contains(text, "personality:<name>") {
		t.Fatalf("user was told %q", text)
	}
}
