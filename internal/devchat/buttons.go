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
func (c *Chat) rememberButtonsLocked(m fakediscord.Message) {
	labels, ids := buttonsOf(m)
	if len(labels) == 0 {
		return
	}
	c.buttons = map[string]string{}
	for i, l := range labels {
		c.buttons[strings.ToLower(l)] = ids[i]
	}
	c.buttonsEphemeral = m.Ephemeral()
}

// press presses the button labelled label (any case) of the last message
// shown with buttons, as a Discord user clicking it.
func (c *Chat) press(ctx context.Context, label string) {
	c.mu.Lock()
	id, ok := c.buttons[strings.ToLower(strings.TrimSpace(label))]
	c.pressing = c.buttonsEphemeral
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.pressing = false; c.mu.Unlock() }()
	if !ok {
		c.println("No button is labelled “" + label + "”; /press takes the label of a button shown above.")
		return
	}
	c.handleInteraction(ctx, c.interaction(discordgo.InteractionMessageComponent,
		discordgo.MessageComponentInteractionData{CustomID: id, ComponentType: discordgo.ButtonComponent}))
}
