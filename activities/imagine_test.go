//go:build integration

package activities_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/internal/config"
)

const imageModel = "google/gemini-2.5-flash-image-preview"

func (f *fixture) imageConfig(t *testing.T, adv map[string]any) {
	t.Helper()
	f.db.ImageConfig.Create().SetPersonalityID(f.kerach).SetModel(imageModel).SetEnabled(true).
		SetAdvancedParameters(adv).ExecX(context.Background())
}

func (f *fixture) imagine(key string) (activities.ImagineOutput, error) {
	v, err := f.env.ExecuteActivity(f.acts.Imagine, activities.ImagineInput{
		ImagineTarget: activities.ImagineTarget{DeliveryKey: key, ChannelID: channelID},
		DiscordUserID: aliceID, PersonalityID: f.kerach, Prompt: "a fox", Size: "640x480",
	})
	if err != nil {
		return activities.ImagineOutput{}, err
	}
	var out activities.ImagineOutput
	return out, v.Get(&out)
}

func (f *fixture) chats() int {
	n := 0
	for _, c := range f.or.Calls() {
		if strings.HasSuffix(c.Path, "/chat/completions") {
			n++
		}
	}
	return n
}

// Without an interaction the image goes to the channel as a file, and a
// retry of a recorded delivery neither posts nor pays again.
func TestImagineToTheChannelOnce(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.storeKey(t, userKey, true)
	f.imageConfig(t, map[string]any{})
	out, err := f.imagine("imagine/1/post")
	if err != nil {
		t.Fatal(err)
	}
	if out.Size != "640x480" || out.KeySource != activities.KeyFromUser {
		t.Errorf("output %+v", out)
	}
	msgs := f.discord.Messages(channelID)
	if len(msgs) != 1 || msgs[0].ID != out.DiscordMessageID || len(msgs[0].Attachments) != 1 ||
		!bytes.HasPrefix(msgs[0].Attachments[0].Data, []byte("\x89PNG")) {
		t.Fatalf("messages %+v", msgs)
	}
	again, err := f.imagine("imagine/1/post")
	if err != nil || again.DiscordMessageID != out.DiscordMessageID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	if n := f.chats(); n != 1 {
		t.Errorf("%d provider calls, want 1", n)
	}
	if n := len(f.discord.Messages(channelID)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestImagineRefusals(t *testing.T) {
	f := newFixture(t, config.GuestFree, "m")
	if _, err := f.imagine("imagine/2/post"); errType(err) != activities.ErrImagesDisabled {
		t.Fatalf("no image config: %v", err)
	}
	f.imageConfig(t, map[string]any{"negativePromt": "x"})
	_, err := f.imagine("imagine/3/post")
	if errType(err) != activities.ErrBadInput || !strings.Contains(err.Error(), "negativePromt") {
		t.Fatalf("bad parameters: %v", err)
	}
	// A size the personality does not draw is refused, never drawn at the default.
	f.db.ImageConfig.Update().SetAdvancedParameters(map[string]any{"sizes": []any{"512x512"}}).ExecX(context.Background())
	_, err = f.imagine("imagine/3b/post")
	if errType(err) != activities.ErrBadInput || !strings.Contains(err.Error(), `size "640x480" is not accepted: this personality draws 512x512`) {
		t.Fatalf("size not offered: %v", err)
	}
	f.db.ImageConfig.Update().SetAdvancedParameters(map[string]any{}).ExecX(context.Background())
	// Guests get free models only, and image models are not free.
	if _, err := f.imagine("imagine/4/post"); errType(err) != activities.ErrNoKey {
		t.Fatalf("guest: %v", err)
	}
	f.storeKey(t, userKey, false)
	if _, err := f.imagine("imagine/5/post"); errType(err) != activities.ErrKeyInactive {
		t.Fatalf("inactive key: %v", err)
	}
	if n := f.chats(); n != 0 {
		t.Errorf("%d provider calls, want none", n)
	}
}

// The (LIMIT_IMAGES_PER_HOUR+1)th image in an hour is refused before any
// provider call.
func TestImagineHourlyLimit(t *testing.T) {
	f := newFixture(t, config.GuestOff, "m")
	f.storeKey(t, userKey, true)
	f.imageConfig(t, map[string]any{})
	f.acts.Limits.ImagesPerHour = 2
	for i, key := range []string{"imagine/1/post", "imagine/2/post"} {
		if _, err := f.imagine(key); err != nil {
			t.Fatalf("image %d: %v", i+1, err)
		}
	}
	_, err := f.imagine("imagine/3/post")
	if errType(err) != activities.ErrLimitReached {
		t.Fatalf("third image: %v, want %s", err, activities.ErrLimitReached)
	}
	if n := f.chats(); n != 2 {
		t.Errorf("%d provider calls, want 2", n)
	}
	if n := f.db.UsageLog.Query().CountX(context.Background()); n != 2 {
		t.Errorf("%d usage rows (holds released?), want 2", n)
	}
}
