package devchat

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	fakediscord "github.com/tzurot/tzurot/internal/fakes/discord"
)

// buttonsOf are the labels and custom ids of m's buttons, in order.
func buttonsOf(m fakediscord.Message) (labels, ids []string) {
	for _, row := range m.Components {
		for _, b := range anyList(row["components"]) {
			label, _ := b["label"].(string)
			id, _ := b["custom_id"].(string)
			if label != "" && id != "" {
				labels, ids = append(labels, label), append(ids, id)
			}
		}
	}
	return labels, ids
}

// renderButtons is the line a message's buttons show as, with how to
// press them; "" without buttons.
func renderButtons(labels []string) string {
	if len(labels) == 0 {
		return ""
	}
	return "\n[" + strings.Join(labels, "] [") + "]  ← /press " + labels[0]
}

// rememberButtonsLocked keeps the buttons of the last message shown with
// any, so /press can press them; ephemeral says whether that message was
// only the user's, as the update a press brings is too.
//
// A message shown again without its buttons (a page updated to the last
// one, a confirmation answered) has none left to press, as on Discord,
// where a user can click only the buttons they see.
func (c *Chat) rememberButtonsLocked(m fakediscord.Message) {
	labels, ids := buttonsOf(m)
	if len(labels) == 0 {
		if m.ID == c.buttonsMessage {
			c.buttons, c.buttonLabels, c.buttonsMessage = nil, nil, ""
		}
		return
	}
	c.buttons = map[string]string{}
	for i, l := range labels {
		c.buttons[strings.ToLower(l)] = ids[i]
	}
	c.buttonLabels, c.buttonsMessage = labels, m.ID
	c.buttonsEphemeral = m.Ephemeral()
}

// press presses the button labelled label (any case) of the last message
// shown with buttons, as a Discord user clicking it.
func (c *Chat) press(ctx context.Context, label string) {
	label = strings.TrimSpace(label)
	c.mu.Lock()
	id, ok := c.buttons[strings.ToLower(label)]
	labels, msgID := c.buttonLabels, c.buttonsMessage
	c.pressing = c.buttonsEphemeral
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.pressing = false; c.mu.Unlock() }()
	switch {
	case ok:
	case len(labels) == 0:
		c.println("No button to press: the latest message shown has none left.")
		return
	case label == "":
		c.println("Press one of the latest buttons shown: /press " + strings.Join(labels, ", /press ") + ".")
		return
	default:
		c.println("No button is labelled “" + label + "”; the latest buttons shown are: " + strings.Join(labels, ", ") + ".")
		return
	}
	ic := c.interaction(discordgo.InteractionMessageComponent,
		discordgo.MessageComponentInteractionData{CustomID: id, ComponentType: discordgo.ButtonComponent})
	// The button's message comes with the press, and an update of it
	// edits it in place, as on Discord.
	ic.Message = &discordgo.Message{ID: msgID, ChannelID: ic.ChannelID}
	c.opts.Discord.AddInteraction(fakediscord.Interaction{ID: ic.ID, Token: ic.Token, ChannelID: ic.ChannelID, MessageID: msgID})
	c.handleInteraction(ctx, ic)
}
