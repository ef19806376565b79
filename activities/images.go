package activities

// Images on the message answered: the bot passes their metadata only
// (Attachment), so image bytes never enter workflow history; Generate
// fetches the bytes from Discord's CDN (fetching the message again when its
// signed URLs have expired), and either gives them to the model as
// image_url content parts, when OpenRouter's model list says the model
// takes images, or has the vision model describe them first.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/gif"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/tzurot/tzurot/internal/openrouter"
)

// Attachment is a file on the Discord message answered, as the gateway
// event gave it (https://discord.com/developers/docs/resources/message#attachment-object):
// metadata only, never its bytes.
type Attachment struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	// Size is in bytes.
	Size int `json:"size"`
	// URL is the signed CDN URL, valid until its ex parameter.
	URL string `json:"url"`
}

// Limits of the images one message may carry.
const (
	MaxImages     = 4
	MaxImageBytes = 10 << 20 // 10 MiB
)

// imageTypes are the media types a message's images may have.
var imageTypes = []string{"image/png", "image/jpeg", "image/webp", "image/gif"}

// modelListTTL is how long OpenRouter's model list is trusted.
const modelListTTL = time.Hour

// imageFetchTimeout bounds fetching one image from Discord's CDN.
const imageFetchTimeout = 30 * time.Second

// seenImage is one image fetched for the prompt.
type seenImage struct {
	name, mediaType string
	data            []byte
}

func (i seenImage) dataURL() string {
	return "data:" + i.mediaType + ";base64," + base64.StdEncoding.EncodeToString(i.data)
}

// imageRefused is ErrImageRefused with msg, never retried.
func imageRefused(msg string) error {
	return temporal.NewNonRetryableApplicationError(msg, ErrImageRefused, nil)
}

// CheckAttachments refuses, by their metadata, images past the limits:
// more than MaxImages, one over MaxImageBytes, or of a type other than
// PNG, JPEG, WebP and GIF. The error is ErrImageRefused with one line for
// the user saying which limit and what to do.
func CheckAttachments(atts []Attachment) error {
	if len(atts) > MaxImages {
		return imageRefused(fmt.Sprintf("that message has %d images and I look at %d at most: send the others in another message", len(atts), MaxImages))
	}
	for _, a := range atts {
		if a.Size > MaxImageBytes {
			return imageRefused(fmt.Sprintf("%s is %.1f MiB and images may be %d MiB at most: send a smaller copy", a.Filename, float64(a.Size)/(1<<20), MaxImageBytes>>20))
		}
		if mt, _, _ := strings.Cut(a.ContentType, ";"); !slices.Contains(imageTypes, strings.TrimSpace(mt)) {
			return imageRefused(fmt.Sprintf("%s is not a PNG, JPEG, WebP or GIF image, the only kinds I can look at: send it in one of those", a.Filename))
		}
	}
	return nil
}

// checkImage refuses fetched bytes that are not what the limits allow,
// whatever the metadata said: the media type is sniffed, and a GIF with
// more than one frame is animated.
func checkImage(name string, data []byte) (string, error) {
	if len(data) > MaxImageBytes {
		return "", imageRefused(fmt.Sprintf("%s is over %d MiB, the most an image may be: send a smaller copy", name, MaxImageBytes>>20))
	}
	mt := http.DetectContentType(data)
	if !slices.Contains(imageTypes, mt) {
		return "", imageRefused(fmt.Sprintf("%s is not a PNG, JPEG, WebP or GIF image, the only kinds I can look at: send it in one of those", name))
	}
	if mt == "image/gif" {
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil {
			return "", imageRefused(fmt.Sprintf("%s is not a GIF I can read: send it as PNG or JPEG", name))
		}
		if len(g.Image) > 1 {
			return "", imageRefused(fmt.Sprintf("%s is an animated GIF and I can look at still images only: send one frame as a PNG", name))
		}
	}
	return mt, nil
}

// errExpired is an attachment URL Discord's CDN no longer serves (404 or
// 403: its signature expired).
var errExpired = errors.New("attachment URL expired")

// fetchImages fetches the images of in's message, checked against the
// limits. When a URL has expired it fetches the message again
// (GET /channels/{channel.id}/messages/{message.id}) for fresh URLs and
// tries once more; an attachment gone from the message is refused.
func (a *Activities) fetchImages(ctx context.Context, in GenerateInput) ([]seenImage, error) {
	if err := CheckAttachments(in.Attachments); err != nil {
		return nil, err
	}
	out := make([]seenImage, 0, len(in.Attachments))
	var fresh map[string]string // attachment id → fresh URL, once fetched
	for _, att := range in.Attachments {
		data, err := a.fetchAttachment(ctx, att.URL)
		if errors.Is(err, errExpired) {
			if fresh == nil {
				if fresh, err = a.freshURLs(ctx, in.ChannelID, in.MessageID); err != nil {
					return nil, err
				}
			}
			u, ok := fresh[att.ID]
			if !ok {
				return nil, imageRefused(fmt.Sprintf("%s is no longer on the message: send it again", att.Filename))
			}
			data, err = a.fetchAttachment(ctx, u)
		}
		if errors.Is(err, errExpired) {
			return nil, imageRefused(fmt.Sprintf("Discord no longer serves %s: send it again", att.Filename))
		}
		if err != nil {
			return nil, err
		}
		mt, err := checkImage(att.Filename, data)
		if err != nil {
			return nil, err
		}
		out = append(out, seenImage{name: att.Filename, mediaType: mt, data: data})
	}
	return out, nil
}

// freshURLs fetches the message again for its attachments' current URLs.
func (a *Activities) freshURLs(ctx context.Context, channelID, messageID string) (map[string]string, error) {
	if messageID == "" {
		return nil, imageRefused("the image's link has expired: send it again")
	}
	m, err := a.Discord.ChannelMessage(channelID, messageID, discordgo.WithContext(ctx))
	if err != nil {
		return nil, discordError("fetch the message for fresh attachment URLs", err)
	}
	out := make(map[string]string, len(m.Attachments))
	for _, at := range m.Attachments {
		out[at.ID] = at.URL
	}
	return out, nil
}

// fetchAttachment GETs one CDN URL, at most MaxImageBytes+1 bytes of it:
// errExpired on 404 and 403, a retryable error on anything else but 200.
func (a *Activities) fetchAttachment(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, imageFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, imageRefused("the image's link is not a URL: send it again")
	}
	hc := http.DefaultClient
	if a.Discord != nil && a.Discord.Client != nil {
		hc = a.Discord.Client
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch image: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
		return nil, errExpired
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch image: Discord's CDN answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch image: %w", err)
	}
	return data, nil
}

// modelList caches which OpenRouter models take images, for modelListTTL.
type modelList struct {
	mu     sync.Mutex
	at     time.Time
	images map[string]bool
}

// acceptsImages reports whether OpenRouter's model list says model takes
// image input (architecture.input_modalities holds "image"). The list is
// fetched with key and kept for modelListTTL; when it cannot be fetched
// the last one is used, and without any the model counts as text-only, so
// the vision model describes the images.
func (a *Activities) acceptsImages(ctx context.Context, key, model string) bool {
	l := &a.models
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.images == nil || time.Since(l.at) > modelListTTL {
		models, err := a.OpenRouter.Models(ctx, key)
		if err != nil {
			a.Log.Warn("OpenRouter's model list not fetched; images are described unless a cached list says otherwise", "error", err)
		} else {
			l.images, l.at = map[string]bool{}, time.Now()
			for _, m := range models {
				l.images[m.ID] = m.AcceptsImages()
			}
		}
	}
	if ok, found := l.images[model]; found {
		return ok
	}
	// A variant (":free", ":nitro", …) takes what its model takes.
	base, _, _ := strings.Cut(model, ":")
	return l.images[base]
}

// describeInstruction asks the vision model for what a model that cannot
// see needs to know of the images.
const describeInstruction = "Describe each of these images for someone who cannot see them: what it shows, " +
	"any text in it (quoted exactly), and anything notable about it. One short paragraph per image, in order, " +
	"each starting with its number."

// describeImages has the vision model describe imgs: the personality's
// vision_model, else VISION_MODEL. It is paid, under resolveKey's rules,
// with the reply's key when that is the user's, and is billed in a usage
// row of its own. A failure is classified as the reply's would be, so a
// refused user key is switched off and no other key used.
func (a *Activities) describeImages(ctx context.Context, in GenerateInput, visionModel, key, source string, imgs []seenImage) (string, error) {
	if source != KeyFromUser {
		// Generate's resolveKey found no key of the user's (operatorKeyFor).
		var err error
		if key, source, err = a.operatorKeyFor(visionModel); err != nil {
			return "", err
		}
	}
	urls := make([]string, len(imgs))
	for i, img := range imgs {
		urls[i] = img.dataURL()
	}
	resp, err := a.chatWithHeartbeat(ctx, key, openrouter.ChatRequest{Model: visionModel, Messages: []openrouter.Message{
		{Role: "user", Content: describeInstruction, Images: urls},
	}})
	if err != nil {
		return "", a.classifyCallError(ctx, err, key, source)
	}
	rec := UsageRecord{
		ID: callUsageID(ctx, in.RequestID, "vision"), DiscordUserID: in.DiscordUserID, PersonalityID: &in.PersonalityID,
		Model: resp.Model, Usage: resp.Usage, Kind: "text",
	}
	if err := a.writeUsage(ctx, rec); err != nil {
		a.Log.Warn("usage row of an image description not written", "error", err, "tokens", rec.Usage.TotalTokens, "model", rec.Model)
	}
	return strings.TrimSpace(resp.Content), nil
}

// withImageText is the user's message with what the model is told of its
// images: their descriptions (described non-empty), else only that they are
// attached, for a message that has no text of its own.
func withImageText(content string, imgs []seenImage, described string) string {
	if len(imgs) == 0 {
		return content
	}
	names := make([]string, len(imgs))
	for i, img := range imgs {
		names[i] = img.name
	}
	note := fmt.Sprintf("[%d image(s) attached: %s]", len(imgs), strings.Join(names, ", "))
	if described != "" {
		note = fmt.Sprintf("[%d image(s) attached: %s. You cannot see them; they were described to you as follows:\n%s]", len(imgs), strings.Join(names, ", "), described)
	}
	if strings.TrimSpace(content) == "" {
		return note
	}
	return content + "\n\n" + note
}

// seeImages fetches the images of in's message and returns the text of
// the user's message for the prompt and the images to send with it as
// content parts: all of them as data URLs when the model takes images,
// else none, their description by the vision model (cfgVision, the
// personality's vision_model, else VISION_MODEL) being in the text.
func (a *Activities) seeImages(ctx context.Context, in GenerateInput, cfgVision *string, model, key, source string) (string, []string, error) {
	if len(in.Attachments) == 0 {
		return in.Content, nil, nil
	}
	if a.acceptsImages(ctx, key, model) {
		imgs, err := a.fetchImages(ctx, in)
		if err != nil {
			return "", nil, err
		}
		urls := make([]string, len(imgs))
		for i, img := range imgs {
			urls[i] = img.dataURL()
		}
		return withImageText(in.Content, imgs, ""), urls, nil
	}
	vision := deref(cfgVision, "")
	if strings.TrimSpace(vision) == "" {
		vision = a.VisionModel
	}
	// The description is kept in the database under an id of the request,
	// the vision model and the attachments, so that a retry of this
	// activity (the reply's provider answered 429 or 5xx after the images
	// were described) finds it instead of paying the vision model again.
	// The database rather than a DescribeImages activity whose result the
	// workflow passes on: the description is derived from the user's
	// image (it quotes any text in it), and workflow history is kept for
	// the namespace's retention where /data delete cannot reach it, while
	// the row goes with the user and is pruned after a day; and the
	// workflow, its version markers and the guest allowance checked before
	// any paid call stay as they are.
	id := descriptionID(in, vision)
	st := a.store()
	if described, ok, err := st.ImageDescription(ctx, id); err != nil {
		a.Log.Warn("stored image description not read; describing the images", "error", err)
	} else if ok {
		return withImageText(in.Content, namesOf(in.Attachments), described), nil, nil
	}
	imgs, err := a.fetchImages(ctx, in)
	if err != nil {
		return "", nil, err
	}
	described, err := a.describeImages(ctx, in, vision, key, source, imgs)
	if err != nil {
		return "", nil, err
	}
	if userID, err := a.ensureUser(ctx, in.DiscordUserID, ""); err != nil {
		a.Log.Warn("image description not stored; a retry describes the images again", "error", err)
	} else if err := st.PutImageDescription(ctx, id, userID, described); err != nil {
		a.Log.Warn("image description not stored; a retry describes the images again", "error", err)
	}
	return withImageText(in.Content, imgs, described), nil, nil
}

// descriptionNamespace scopes the name-based (v5) ids of image descriptions.
var descriptionNamespace = uuid.MustParse("3c1f7a52-9e0b-4d6a-8f21-5b7e4c0d9a13")

// descriptionID is the id of the description of in's images by vision:
// the same for every attempt of one request.
func descriptionID(in GenerateInput, vision string) uuid.UUID {
	ids := make([]string, len(in.Attachments))
	for i, att := range in.Attachments {
		ids[i] = att.ID
	}
	return uuid.NewSHA1(descriptionNamespace, []byte(in.RequestID+"/"+vision+"/"+strings.Join(ids, ",")))
}

// namesOf is the attachments as withImageText names them, without bytes.
func namesOf(atts []Attachment) []seenImage {
	out := make([]seenImage, len(atts))
	for i, att := range atts {
		out[i] = seenImage{name: att.Filename}
	}
	return out
}
