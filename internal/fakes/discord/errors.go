package discord

import (
	"net/http"
	"strconv"
)

// JSON error codes from https://discord.com/developers/docs/topics/opcodes-and-status-codes#json.
// maxContentRunes is in code points, as Discord's Python API counts content
// (https://github.com/discord/discord-api-docs/issues/1315).
const (
	codeUnknownWebhook       = 10015
	codeUnknownMessage       = 10008
	codeUnknownInteraction   = 10062
	codeUnknownCommand       = 10063
	codeMaxWebhooks          = 30007
	codeRequestTooLarge      = 40005
	codeAlreadyAcknowledged  = 40060
	codeMissingAccess        = 50001
	codeActionOnDMChannel    = 50003
	codeCannotEditOthers     = 50005
	codeEmptyMessage         = 50006
	codeCannotMessageUser    = 50007
	codeMissingPermissions   = 50013
	codeInvalidWebhookToken  = 50027
	codeInvalidFormBody      = 50035
	codeInvalidJSON          = 50109
	maxContentRunes          = 2000
	maxEmbeds                = 10
	maxFiles                 = 10
	maxFileBytes             = 10 << 20
	maxWebhooksPerChannel    = 15
	maxCommandsPerScope      = 100
	maxOptionsPerCommand     = 25
	ephemeralFlag            = 1 << 6
	loadingFlag              = 1 << 7
	suppressEmbedsFlag       = 1 << 2
	suppressNotificationFlag = 1 << 12
)

// reply is a complete answer, built while the state lock is held so that
// recording and answering cannot be observed out of order.
type reply struct {
	status      int
	header      http.Header
	body        any
	raw         []byte
	contentType string
	// notify lists messages created or changed, for Options.OnMessage.
	notify []Message
	// drop answers nothing and closes the connection (DropNext).
	drop bool
}

func jsonReply(status int, body any) reply {
	return reply{status: status, body: body}
}

func noContent() reply { return reply{status: http.StatusNoContent} }

func apiError(status, code int, message string) reply {
	return jsonReply(status, map[string]any{"message": message, "code": code})
}

func notFoundRoute() reply {
	return apiError(http.StatusNotFound, 0, "404: Not Found")
}

func unauthorized() reply {
	return apiError(http.StatusUnauthorized, 0, "401: Unauthorized")
}

// formError is Discord's 50035 "Invalid Form Body", whose errors object
// mirrors the payload's shape down to the offending field.
func formError(errs map[string]any) reply {
	return jsonReply(http.StatusBadRequest, map[string]any{
		"message": "Invalid Form Body",
		"code":    codeInvalidFormBody,
		"errors":  errs,
	})
}

// fieldError nests one error under path, e.g. ["data","title"].
func fieldError(code, message string, path ...string) map[string]any {
	node := map[string]any{
		"_errors": []map[string]any{{"code": code, "message": message}},
	}
	for i := len(path) - 1; i >= 0; i-- {
		node = map[string]any{path[i]: node}
	}
	return node
}

func badLength(min, max int, path ...string) map[string]any {
	return fieldError("BASE_TYPE_BAD_LENGTH",
		"Must be between "+strconv.Itoa(min)+" and "+strconv.Itoa(max)+" in length.", path...)
}

func maxLength(max int, path ...string) map[string]any {
	return fieldError("BASE_TYPE_MAX_LENGTH", "Must be "+strconv.Itoa(max)+" or fewer in length.", path...)
}

func notSnowflake(param, value string) reply {
	return formError(fieldError("NUMBER_TYPE_COERCE", "Value \""+value+"\" is not snowflake.", param))
}

func tooLarge() reply {
	return apiError(http.StatusRequestEntityTooLarge, codeRequestTooLarge, "Request entity too large")
}
