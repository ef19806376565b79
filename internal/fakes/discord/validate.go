package discord

// The limits Discord enforces on a message body and on webhook names.

import (
	"net/http"
	"strings"
	"unicode/utf8"
)

// validateContent checks the limits Discord enforces on any message body,
// new or edited.
func validateContent(body map[string]any, files []File) *reply {
	if utf8.RuneCountInString(str(body, "content")) > maxContentRunes {
		rep := formError(maxLength(maxContentRunes, "content"))
		return &rep
	}
	if len(list(body, "embeds")) > maxEmbeds {
		rep := formError(maxLength(maxEmbeds, "embeds"))
		return &rep
	}
	if len(files) > maxFiles {
		rep := formError(maxLength(maxFiles, "files"))
		return &rep
	}
	return nil
}

// validateNew adds the check that only applies when creating: Discord
// refuses a message with nothing to show.
func validateNew(body map[string]any, files []File) *reply {
	if rep := validateContent(body, files); rep != nil {
		return rep
	}
	if strings.TrimSpace(str(body, "content")) == "" && len(list(body, "embeds")) == 0 &&
		len(files) == 0 && len(list(body, "components")) == 0 &&
		len(list(body, "sticker_ids")) == 0 && obj(body, "poll") == nil {
		rep := apiError(http.StatusBadRequest, codeEmptyMessage, "Cannot send an empty message")
		return &rep
	}
	return nil
}

// validateUsername applies Discord's webhook naming rules to a webhook name
// or a per-message username override.
// Discord trims leading and trailing whitespace first, so a blank name is
// too short (https://discord.com/developers/docs/resources/user#usernames-and-nicknames).
func validateUsername(field, name string) *reply {
	if n := utf8.RuneCountInString(strings.TrimSpace(name)); n < 1 || n > 80 {
		rep := formError(badLength(1, 80, field))
		return &rep
	}
	lower := strings.ToLower(name)
	for _, banned := range []string{"clyde", "discord"} {
		if strings.Contains(lower, banned) {
			rep := formError(fieldError("USERNAME_INVALID_CONTAINS", "Username cannot contain \""+banned+"\"", field))
			return &rep
		}
	}
	return nil
}
