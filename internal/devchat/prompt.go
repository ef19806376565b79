package devchat

import (
	"encoding/json"
	"fmt"
	"strings"
)

// showPrompt prints what the model was given in the last chat request the
// OpenRouter stand-in received (/prompt): the model, then each message with
// its role, image parts summarised (type and size, never their bytes). The
// key travels in a header and is never shown; a message that looks like a
// key is not shown either.
func (c *Chat) showPrompt() {
	if c.opts.OpenRouter == nil {
		c.println("/prompt shows what the OpenRouter stand-in was given; this tzurot dev talks to the real OpenRouter, whose requests it does not keep.")
		return
	}
	calls := c.opts.OpenRouter.Calls()
	for i := len(calls) - 1; i >= 0; i-- {
		if strings.HasSuffix(calls[i].Path, "/chat/completions") {
			c.println(renderChatRequest(calls[i].Body))
			return
		}
	}
	c.println("No chat request reached the model yet; talk to a personality first, e.g. " + c.opts.Example)
}

// chatRequest is what /prompt reads of an OpenAI-style chat request body.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

// renderChatRequest is a chat request body as /prompt shows it.
func renderChatRequest(body []byte) string {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return "(the last chat request is not JSON the chat can read: " + err.Error() + ")"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "(only you) The last chat request gave %s %d message(s):", req.Model, len(req.Messages))
	for _, m := range req.Messages {
		text := contentText(m.Content)
		if looksLikeKey(text) {
			text = "(text that looks like an API key, not shown)"
		}
		fmt.Fprintf(&sb, "\n  %s: %s", m.Role, strings.ReplaceAll(text, "\n", "\n    "))
	}
	return sb.String()
}

// contentText is a message's content: its string, or its parts' text with
// each image part as [image TYPE, N KB].
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		ImageURL struct {
			URL string `json:"url"`
		} `json:"image_url"`
	}
	if json.Unmarshal(raw, &parts) != nil {
		return string(raw)
	}
	var out []string
	for _, p := range parts {
		switch p.Type {
		case "text":
			out = append(out, p.Text)
		case "image_url":
			kind, _, _ := strings.Cut(strings.TrimPrefix(p.ImageURL.URL, "data:"), ";")
			if !strings.HasPrefix(p.ImageURL.URL, "data:") {
				kind = "by URL"
			}
			out = append(out, fmt.Sprintf("[image %s, %.1f KB]", kind, float64(len(p.ImageURL.URL))/1024))
		default:
			out = append(out, "["+p.Type+" part]")
		}
	}
	return strings.Join(out, "\n")
}
