package discord

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Commands returns the registered application commands of a guild, or the
// global ones for guildID "".
func (s *Server) Commands(guildID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[guildID])
}

// chatInputName is Discord's documented name rule for slash commands and
// their options; names must also be lower case where a case exists.
var chatInputName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

func (s *Server) commandScopeLocked(c *call) (string, *reply) {
	if c.params["application_id"] != s.opts.ApplicationID {
		rep := apiError(http.StatusForbidden, codeMissingAccess, "Missing Access")
		return "", &rep
	}
	return c.params["guild_id"], nil
}

func (s *Server) listCommands(c *call) reply {
	scope, rep := s.commandScopeLocked(c)
	if rep != nil {
		return *rep
	}
	out := s.commands[scope]
	if out == nil {
		out = []map[string]any{}
	}
	return jsonReply(http.StatusOK, out)
}

func commandType(cmd map[string]any) int {
	if t := num(cmd, "type"); t != 0 {
		return t
	}
	return 1
}

func commandKey(cmd map[string]any) string {
	return strconv.Itoa(commandType(cmd)) + "/" + str(cmd, "name")
}

// validateCommand returns the errors object for one command, or nil.
func validateCommand(cmd map[string]any) map[string]any {
	errs := map[string]any{}
	typ := commandType(cmd)
	name := str(cmd, "name")
	desc := str(cmd, "description")
	switch typ {
	case 1:
		if !chatInputName.MatchString(name) || name != strings.ToLower(name) {
			errs["name"] = fieldError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if n := utf8.RuneCountInString(desc); n < 1 || n > 100 {
			errs["description"] = badLength(1, 100)
		}
		if optErrs := validateOptions(list(cmd, "options")); optErrs != nil {
			errs["options"] = optErrs
		}
	case 2, 3:
		if n := utf8.RuneCountInString(name); n < 1 || n > 32 {
			errs["name"] = badLength(1, 32)
		}
		if desc != "" {
			errs["description"] = fieldError("APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have description")
		}
	default:
		errs["type"] = fieldError("BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func validateOptions(opts []any) map[string]any {
	if len(opts) > maxOptionsPerCommand {
		return maxLength(maxOptionsPerCommand)
	}
	errs := map[string]any{}
	for i, o := range opts {
		opt, ok := o.(map[string]any)
		if !ok {
			errs[strconv.Itoa(i)] = fieldError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
			continue
		}
		e := map[string]any{}
		name := str(opt, "name")
		if !chatInputName.MatchString(name) || name != strings.ToLower(name) {
			e["name"] = fieldError("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if n := utf8.RuneCountInString(str(opt, "description")); n < 1 || n > 100 {
			e["description"] = badLength(1, 100)
		}
		if sub := validateOptions(list(opt, "options")); sub != nil {
			e["options"] = sub
		}
		if len(e) > 0 {
			errs[strconv.Itoa(i)] = e
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// storedCommand fills in what Discord adds to a registered command; an
// existing command of the same type and name keeps its id.
func (s *Server) storedCommandLocked(cmd map[string]any, guildID string, existing map[string]string) map[string]any {
	out := maps.Clone(cmd)
	id, ok := existing[commandKey(cmd)]
	if !ok {
		id = s.ids.next()
	}
	out["id"] = id
	out["application_id"] = s.opts.ApplicationID
	out["version"] = s.ids.next()
	out["type"] = commandType(cmd)
	if guildID != "" {
		out["guild_id"] = guildID
	} else {
		delete(out, "guild_id")
	}
	if !has(out, "default_member_permissions") {
		out["default_member_permissions"] = nil
	}
	if !has(out, "nsfw") {
		out["nsfw"] = false
	}
	if out["options"] == nil && commandType(cmd) == 1 {
		out["options"] = []any{}
	}
	return out
}

func (s *Server) existingIDsLocked(scope string) map[string]string {
	ids := map[string]string{}
	for _, cmd := range s.commands[scope] {
		ids[commandKey(cmd)] = str(cmd, "id")
	}
	return ids
}

func (s *Server) overwriteCommands(c *call) reply {
	scope, rep := s.commandScopeLocked(c)
	if rep != nil {
		return *rep
	}
	if c.body.object != nil || (c.body.array == nil && len(c.rec.Body) > 0) {
		return formError(fieldError("LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
	}
	if len(c.body.array) > maxCommandsPerScope {
		return formError(maxLength(maxCommandsPerScope))
	}
	errs := map[string]any{}
	seen := map[string]bool{}
	var cmds []map[string]any
	for i, v := range c.body.array {
		cmd, ok := v.(map[string]any)
		if !ok {
			errs[strconv.Itoa(i)] = fieldError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
			continue
		}
		if e := validateCommand(cmd); e != nil {
			errs[strconv.Itoa(i)] = e
			continue
		}
		if seen[commandKey(cmd)] {
			return formError(fieldError("APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"))
		}
		seen[commandKey(cmd)] = true
		cmds = append(cmds, cmd)
	}
	if len(errs) > 0 {
		return formError(errs)
	}
	existing := s.existingIDsLocked(scope)
	out := make([]map[string]any, 0, len(cmds))
	for _, cmd := range cmds {
		out = append(out, s.storedCommandLocked(cmd, scope, existing))
	}
	s.commands[scope] = out
	return jsonReply(http.StatusOK, out)
}

func (s *Server) createCommand(c *call) reply {
	scope, rep := s.commandScopeLocked(c)
	if rep != nil {
		return *rep
	}
	cmd := c.body.object
	if cmd == nil {
		return formError(fieldError("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"))
	}
	if e := validateCommand(cmd); e != nil {
		return formError(e)
	}
	existing := s.existingIDsLocked(scope)
	stored := s.storedCommandLocked(cmd, scope, existing)
	for i, old := range s.commands[scope] {
		if commandKey(old) == commandKey(cmd) {
			// Creating an existing name updates it in place: 200, not 201.
			s.commands[scope][i] = stored
			return jsonReply(http.StatusOK, stored)
		}
	}
	if len(s.commands[scope]) >= maxCommandsPerScope {
		return apiError(http.StatusBadRequest, 30032, "Maximum number of application commands reached (100)")
	}
	s.commands[scope] = append(s.commands[scope], stored)
	return jsonReply(http.StatusCreated, stored)
}

func (s *Server) deleteCommand(c *call) reply {
	scope, rep := s.commandScopeLocked(c)
	if rep != nil {
		return *rep
	}
	for i, cmd := range s.commands[scope] {
		if str(cmd, "id") == c.params["command_id"] {
			s.commands[scope] = append(s.commands[scope][:i:i], s.commands[scope][i+1:]...)
			return noContent()
		}
	}
	return apiError(http.StatusNotFound, codeUnknownCommand, "Unknown application command")
}
