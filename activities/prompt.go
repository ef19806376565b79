package activities

import (
	"fmt"
	"strings"
	"time"

	"github.com/tzurot/tzurot/internal/openrouter"
)

// Persona is what the prompt needs of a personality.
type Persona struct {
	Name, DisplayName, SystemPrompt, CharacterInfo string
	// Card is the character card fields that are set, in a stable order.
	Card                            [][2]string
	BirthMonth, BirthDay, BirthYear int
}

// Turn is one earlier message in the conversation. Author is the name the
// author of a user turn showed in Discord then, AuthorID their Discord id;
// both are empty for the personality's own turns.
type Turn struct {
	Role, Content    string
	Author, AuthorID string
	// MessageID is the Discord message id of a user turn ("" when not
	// stored): the exchange's memory id derives from it (ReplyRequestIDs).
	MessageID string
}

// PromptInput is everything a prompt is made of; Now is the request's time.
type PromptInput struct {
	Persona Persona
	History []Turn // oldest first
	// Username is the current speaker's name, DiscordUserID their id,
	// Content what they said.
	Username      string
	DiscordUserID string
	Timezone      string
	Now           time.Time
	Content       string
	// Model is the model the request goes to (see nameField).
	Model string
	// Mentions name the current message's mentions; MentionLimits bound
	// how many of each kind per message, in it and in History.
	Mentions      MentionNames
	MentionLimits MentionLimits
	// TokenBudget bounds the prompt in EstimateTokens' units;
	// 0 means DefaultPromptTokens.
	TokenBudget int
}

// BuildMessages renders the chat messages for a request: the system prompt
// (personality, character card, the user's local time, the birthday, how
// speakers are shown), then the conversation so far — each user turn as
// "author: text", mentions as names, the oldest turns left out past the
// token budget — then the new message, as "speaker: text" too.
func BuildMessages(in PromptInput) []openrouter.Message {
	var sys strings.Builder
	name := in.Persona.DisplayName
	if name == "" {
		name = in.Persona.Name
	}
	if in.Persona.SystemPrompt != "" {
		sys.WriteString(strings.TrimSpace(in.Persona.SystemPrompt))
		sys.WriteString("\n\n")
	}
	fmt.Fprintf(&sys, "You are %s.", name)
	if in.Persona.CharacterInfo != "" {
		sys.WriteString("\n\n" + strings.TrimSpace(in.Persona.CharacterInfo))
	}
	for _, f := range in.Persona.Card {
		fmt.Fprintf(&sys, "\n%s: %s", f[0], strings.TrimSpace(f[1]))
	}
	loc, err := time.LoadLocation(in.Timezone)
	if err != nil || in.Timezone == "" {
		loc = time.UTC
	}
	local := in.Now.In(loc)
	// The offset goes with the zone's name: Etc/GMT+8 is UTC-8 (POSIX's
	// inverted sign), which a model would misread from the name alone.
	fmt.Fprintf(&sys, "\n\nThe current time for %s is %s (%s, UTC%s).", displayUser(in.Username),
		local.Format("Monday 2 January 2006, 15:04"), loc.String(), local.Format("-07:00"))
	if b := birthday(in.Persona, local); b != "" {
		sys.WriteString("\n" + b)
	}
	sys.WriteString("\n\nSeveral people may talk with you here: each of their messages starts with its speaker's name and a colon. Answer as yourself, without such a prefix.")
	return append([]openrouter.Message{{Role: "system", Content: sys.String()}}, conversation(in, sys.String())...)
}

func displayUser(u string) string {
	if u == "" {
		return "the user"
	}
	return u
}

// birthday says when the personality's birthday is, and that it is today when
// it is, in the user's local calendar (today is the request's time in the
// user's zone). A birthday on a day this year lacks — 29 February in a
// common year — is celebrated on the last day of its month, 28 February,
// so it stays in the birth month (the usual choice of people born on 29
// February; a few laws count 1 March for legal age, which does not matter
// here). Leap years are Gregorian, as in package time.
func birthday(p Persona, today time.Time) string {
	if p.BirthMonth < 1 || p.BirthMonth > 12 || p.BirthDay < 1 || p.BirthDay > 31 {
		return ""
	}
	s := fmt.Sprintf("Your birthday is %s %d", time.Month(p.BirthMonth), p.BirthDay)
	if p.BirthYear > 0 {
		s += fmt.Sprintf(", %d", p.BirthYear)
	}
	s += "."
	if int(today.Month()) == p.BirthMonth && today.Day() == min(p.BirthDay, daysIn(today.Year(), today.Month())) {
		s += " Today is your birthday."
	}
	return s
}

// daysIn is the number of days of month in year (Gregorian).
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
