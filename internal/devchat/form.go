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
func (c *Chat) handleInteraction(ctx context.Context, ic *discordgo.InteractionCreate, lines <-chan string) {
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
			c.fillForm(ctx, data, lines)
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
func (c *Chat) fillForm(ctx context.Context, data map[string]any, lines <-chan string) {
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
		v, ok := c.askField(ctx, f, lines)
		if !ok {
			c.println("Form cancelled; nothing was sent.")
			return
		}
		rows = append(rows, &discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			&discordgo.TextInput{CustomID: f.id, Value: v},
		}})
	}
	ic := c.interaction(discordgo.InteractionModalSubmit, discordgo.ModalSubmitInteractionData{CustomID: customID, Components: rows})
	c.handleInteraction(ctx, ic, lines)
}

var secretField = regexp.MustCompile(`(?i)key|token|password|secret`)

func (c *Chat) askField(ctx context.Context, f formField, lines <-chan string) (string, bool) {
	prompt := "  " + f.label
	if f.placeholder != "" {
		prompt += " [" + f.placeholder + "]"
	}
	prompt += ": "
	secret := secretField.MatchString(f.id + " " + f.label)
	for {
		restore := func() {}
		if secret && c.opts.HideInput != nil {
			restore = c.opts.HideInput()
		}
		v, ok := c.readLine(ctx, lines, prompt)
		restore()
		if secret && c.opts.HideInput != nil && c.opts.Interactive {
			c.mu.Lock()
			fmt.Fprintln(c.opts.Out) // the hidden Enter did not move the cursor
			c.mu.Unlock()
		}
		if !ok {
			return "", false
		}
		v = strings.TrimSpace(v)
		if !c.opts.Interactive {
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
