package devchat

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// handleInteraction runs the bot's handler, then does what the Discord
// client would with its answer: open a form, or say the bot did not answer.
func (c *Chat) handleInteraction(ctx context.Context, ic *discordgo.InteractionCreate) {
	c.opts.Bot.HandleInteraction(ctx, ic)
	resps := c.opts.Discord.InteractionResponses(ic.ID)
	if len(resps) == 0 && ctx.Err() == nil {
		c.println("(Tzurot did not answer; Discord would say \"The application did not respond\". The log says why.)")
	}
	for _, r := range resps {
		if r.Status >= 300 {
			c.println(fmt.Sprintf("(Discord refused Tzurot's answer with HTTP %d; the log says why.)", r.Status))
			continue
		}
		if t, _ := r.JSON["type"].(float64); int(t) == int(discordgo.InteractionResponseModal) {
			data, _ := r.JSON["data"].(map[string]any)
			c.fillForm(ctx, data)
		}
	}
}

// formField is one text input of a modal, as the bot sent it.
type formField struct {
	id, label, placeholder string
	required               bool
	min, max               int
}

// fillForm asks for each field of a modal on the terminal and submits it.
func (c *Chat) fillForm(ctx context.Context, data map[string]any) {
	customID, _ := data["custom_id"].(string)
	title, _ := data["title"].(string)
	var fields []formField
	for _, row := range anyList(data["components"]) {
		for _, comp := range anyList(row["components"]) {
			f := formField{}
			f.id, _ = comp["custom_id"].(string)
			f.label, _ = comp["label"].(string)
			f.placeholder, _ = comp["placeholder"].(string)
			f.required, _ = comp["required"].(bool)
			if v, ok := comp["min_length"].(float64); ok {
				f.min = int(v)
			}
			if v, ok := comp["max_length"].(float64); ok {
				f.max = int(v)
			}
			fields = append(fields, f)
		}
	}
	c.println(fmt.Sprintf("Tzurot opened a form, %q. Answer each field; an empty answer cancels it.", title))
	var rows []discordgo.MessageComponent
	for _, f := range fields {
		v, ok := c.askField(ctx, f)
		if !ok {
			c.println("Form cancelled; nothing was sent.")
			return
		}
		if isCommand(v) {
			// A command typed while the form asks is the user moving on
			// (say, to /wallet set provider:elevenlabs), never the answer:
			// taken as one, the key typed next would be posted in the channel.
			c.println("Form cancelled, nothing was sent: " + strings.Fields(v)[0] + " is a command, not an answer. Running it now.")
			c.unread(v)
			return
		}
		rows = append(rows, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: f.id, Value: v},
		}})
	}
	ic := c.interaction(discordgo.InteractionModalSubmit, discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows})
	c.handleInteraction(ctx, ic)
}

var secretField = regexp.MustCompile(`(?i)key|token|password|secret`)

// askField asks for f until the answer fits it; ok is false when the user
// cancels. A command line (isCommand) is returned as typed, for fillForm to
// cancel the form with.
func (c *Chat) askField(ctx context.Context, f formField) (string, bool) {
	prompt := "  " + f.label
	if f.placeholder != "" {
		prompt += " [" + f.placeholder + "]"
	}
	prompt += ": "
	secret := secretField.MatchString(f.id + " " + f.label)
	for {
		v, ok := c.readLine(ctx, prompt, secret)
		if !ok {
			return "", false
		}
		v = strings.TrimSpace(v)
		if isCommand(v) {
			return v, true
		}
		if !c.opts.Terminal {
			shown := v
			if secret {
				shown = "(typed, not shown)"
			}
			c.println(prompt + shown)
		}
		n := utf8.RuneCountInString(v)
		switch {
		case v == "" && f.required:
			return "", false
		case v == "":
			return "", true
		case n < f.min || (f.max > 0 && n > f.max):
			c.println(fmt.Sprintf("  That is %d characters; this field takes %d to %d. Type it again, or an empty line to cancel.", n, f.min, f.max))
			continue
		}
		return v, true
	}
}

// isCommand tells a command typed into a form from an answer: a slash and a
// word. No form field (an API key, a name) starts with one.
func isCommand(line string) bool {
	return len(line) > 1 && line[0] == '/' && line[1] != ' ' && line[1] != '/'
}
