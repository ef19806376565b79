package bot_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/ent/usagelog"
	fakeopenrouter "github.com/tzurot/tzurot/internal/fakes/openrouter"
	"github.com/tzurot/tzurot/internal/itest"
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
	u := w.DB.User.Create().SetDiscordID(alice).SaveX(ctx)
	s, err := w.Keys.Seal(aliceKey)
	if err != nil {
		t.Fatal(err)
	}
	w.DB.UserAPIKey.Create().SetUserID(u.ID).SetIv(s.IV).SetContent(s.Content).SetTag(s.Tag).SetIsActive(true).ExecX(ctx)
	w.OpenRouter.AddKey(aliceKey, fakeopenrouter.Key{})
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
	waitFor(t, "the follow-up", func() bool { return len(w.Discord.FollowUps(ic.Token)) == 1 })
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

// A personality whose images are off refuses clearly and calls no provider.
func TestImagineDisabled(t *testing.T) {
	w := newWorld(t, itest.Options{})
	seedPainter(t, w, false)
	ic := w.slash(alice, "imagine", "", str("prompt", "a fox"), str("personality", "painter"))
	waitFor(t, "the refusal", func() bool { return len(w.Discord.FollowUps(ic.Token)) == 1 })
	if got := w.Discord.FollowUps(ic.Token)[0].Content; !strings.Contains(got, "does not make images") {
		t.Fatalf("follow-up %q", got)
	}
	for _, c := range w.OpenRouter.Calls() {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			t.Fatal("a disabled personality called the provider")
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
