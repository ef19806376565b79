package elevenlabs

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tzurot/tzurot/internal/fakes/fakehttp"
)

// ttsRequest is what the fake uses of a TTS body that passed validation.
type ttsRequest struct {
	text     string
	modelID  string
	hasModel bool
	settings *VoiceSettings
}

func (s *Server) textToSpeech(r *http.Request, body []byte, call *Call, stream bool) *response {
	req, problems := parseTTSRequest(r, body)
	call.Text, call.ModelID, call.VoiceSettings = req.text, req.modelID, req.settings
	// ElevenLabs is a FastAPI service: the schema check runs before the key
	// check, so a malformed body gets 422 even with a bad key.
	if len(problems) > 0 {
		return validationFailed(problems)
	}
	ks, errResp := s.authenticate(r, "text_to_speech")
	if errResp != nil {
		return errResp
	}

	step := next(fakehttp.NextStep(&s.stand, call.Key))
	s.mu.Lock()
	ks.inFlight++
	current := ks.inFlight
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		ks.inFlight--
		s.mu.Unlock()
	}
	if !fakehttp.Wait(r.Context(), s.opts.Latency+step.delay) {
		release()
		return nil
	}
	resp := s.speak(call, ks, req, step, current, stream)
	resp.Done = release
	return resp
}

// speak runs the checks that need a valid key, in the order: script,
// voice, model, output format, empty text, length, quota; then charges the
// characters and renders the audio.
func (s *Server) speak(call *Call, ks *keyState, req ttsRequest, step Step, current int, stream bool) *response {
	modelID := defaultModel
	if req.hasModel {
		modelID = req.modelID
	}
	m, modelOK := findModel(modelID)
	format := call.OutputFormat
	if format == "" {
		format = defaultOutputFormat
	}
	chars := utf8.RuneCountInString(req.text)
	f := failure{
		voiceID: call.VoiceID, modelID: modelID, format: format,
		chars: chars, maxChars: m.maxChars, maxConcurrent: ks.maxConcurrent(m), body: call.Body,
	}
	s.mu.Lock()
	f.limit = ks.reportedLimit()
	f.remaining = max(f.limit-ks.used, 0)
	s.mu.Unlock()

	if step.kind == stepFail {
		return scriptedError(step, f)
	}
	if ks.Blocked != "" {
		// An account-level refusal: no voice, model or quota check runs.
		return scriptedError(Fail(0, ks.Blocked), f)
	}
	if _, ok := s.findVoice(call.VoiceID); !ok {
		return apiError(http.StatusNotFound, "voice_not_found", f)
	}
	if !modelOK {
		return apiError(http.StatusBadRequest, "model_not_found", f)
	}
	if !knownOutputFormat(format) {
		return apiError(http.StatusBadRequest, "invalid_output_format", f)
	}
	audio, contentType, ok := render(format, req.text)
	if !ok {
		f.message = "Output format " + format + " is valid on ElevenLabs, but the fake server does not generate it."
		return apiError(http.StatusBadRequest, "invalid_output_format", f)
	}
	if strings.TrimSpace(req.text) == "" {
		return apiError(http.StatusBadRequest, "empty_text", f)
	}
	if chars > m.maxChars {
		return apiError(http.StatusBadRequest, "max_character_limit_exceeded", f)
	}

	// Check and charge under one lock, so concurrent calls cannot
	// overspend the quota between them.
	s.mu.Lock()
	if ks.CharacterLimit > 0 && ks.used+chars > ks.CharacterLimit {
		f.remaining = max(ks.CharacterLimit-ks.used, 0)
		s.mu.Unlock()
		return apiError(http.StatusUnauthorized, "quota_exceeded", f)
	}
	ks.used += chars
	s.mu.Unlock()

	id := newRequestID()
	h := http.Header{}
	h.Set("Content-Type", contentType)
	h.Set("request-id", id)
	h.Set("x-trace-id", id)
	h.Set("history-item-id", newItemID())
	h.Set("x-character-count", strconv.Itoa(chars))
	h.Set("character-cost", strconv.Itoa(chars))
	h.Set("current-concurrent-requests", strconv.Itoa(current))
	h.Set("maximum-concurrent-requests", strconv.Itoa(f.maxConcurrent))
	resp := &response{Status: http.StatusOK, Header: h, Body: audio}
	if stream {
		resp.Stream = chunked(audio)
	}
	return resp
}

// Messages of the pydantic v2 error types the fake reports.
var pydanticMsg = map[string]string{
	"missing":               "Field required",
	"string_type":           "Input should be a valid string",
	"float_type":            "Input should be a valid number",
	"float_parsing":         "Input should be a valid number, unable to parse string as a number",
	"bool_type":             "Input should be a valid boolean",
	"bool_parsing":          "Input should be a valid boolean, unable to interpret input",
	"int_type":              "Input should be a valid integer",
	"int_parsing":           "Input should be a valid integer, unable to parse string as an integer",
	"int_from_float":        "Input should be a valid integer, got a number with a fractional part",
	"model_attributes_type": "Input should be a valid dictionary or object to extract fields from",
}

func newProblem(typ string, loc []any, input json.RawMessage) problem {
	return problem{Type: typ, Loc: loc, Msg: pydanticMsg[typ], Input: input}
}

func bodyLoc(path ...any) []any { return append([]any{"body"}, path...) }

// parseTTSRequest validates the request like the FastAPI schema of
// text_to_speech_full: query parameters first, then the body fields in
// schema order, one problem per invalid field. Values are coerced the way
// pydantic's lax mode does ("0.5" is a valid number, "yes" a valid
// boolean).
func parseTTSRequest(r *http.Request, body []byte) (ttsRequest, []problem) {
	var req ttsRequest
	var problems []problem
	add := func(p *problem) {
		if p != nil {
			problems = append(problems, *p)
		}
	}

	if q := r.URL.Query(); q.Has("enable_logging") {
		raw, _ := json.Marshal(q.Get("enable_logging"))
		_, p := laxBool(raw, []any{"query", "enable_logging"})
		add(p)
	}

	obj, p := decodeBody(r, body)
	if p != nil {
		return req, append(problems, *p)
	}

	if raw, ok := obj["text"]; !ok {
		add(&problem{Type: "missing", Loc: bodyLoc("text"), Msg: pydanticMsg["missing"]})
	} else {
		text, p := stringField(raw, false, bodyLoc("text"))
		add(p)
		if text != nil {
			req.text = *text
		}
	}
	if raw, ok := obj["model_id"]; ok {
		id, p := stringField(raw, false, bodyLoc("model_id"))
		add(p)
		if id != nil {
			req.modelID, req.hasModel = *id, true
		}
	}
	if raw, ok := obj["language_code"]; ok {
		_, p := stringField(raw, true, bodyLoc("language_code"))
		add(p)
	}
	if raw, ok := obj["voice_settings"]; ok {
		var ps []problem
		req.settings, ps = voiceSettings(raw)
		problems = append(problems, ps...)
	}
	if raw, ok := obj["seed"]; ok {
		add(laxInt(raw, bodyLoc("seed")))
	}
	for _, name := range []string{"previous_text", "next_text"} {
		if raw, ok := obj[name]; ok {
			_, p := stringField(raw, true, bodyLoc(name))
			add(p)
		}
	}
	if raw, ok := obj["use_pvc_as_ivc"]; ok {
		_, p := laxBool(raw, bodyLoc("use_pvc_as_ivc"))
		add(p)
	}
	if raw, ok := obj["apply_text_normalization"]; ok {
		add(enumField(raw, bodyLoc("apply_text_normalization"), "auto", "on", "off"))
	}
	if raw, ok := obj["apply_language_text_normalization"]; ok {
		_, p := laxBool(raw, bodyLoc("apply_language_text_normalization"))
		add(p)
	}
	return req, problems
}

// decodeBody follows FastAPI: an empty or null body is a missing body, a
// non-JSON content type leaves the raw text to fail validation, and
// undecodable JSON is json_invalid at the byte where decoding stopped.
func decodeBody(r *http.Request, body []byte) (map[string]json.RawMessage, *problem) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &problem{Type: "missing", Loc: bodyLoc(), Msg: pydanticMsg["missing"]}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONContentType(ct) {
		raw, _ := json.Marshal(string(body))
		p := newProblem("model_attributes_type", bodyLoc(), raw)
		return nil, &p
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, jsonInvalid(err)
	}
	if v == nil {
		return nil, &problem{Type: "missing", Loc: bodyLoc(), Msg: pydanticMsg["missing"]}
	}
	var obj map[string]json.RawMessage
	if _, isObject := v.(map[string]any); !isObject || json.Unmarshal(body, &obj) != nil {
		p := newProblem("model_attributes_type", bodyLoc(), trimmed)
		return nil, &p
	}
	return obj, nil
}

func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// jsonInvalid reports a decoding error as FastAPI does, with Python's
// json module wording for the common cases.
func jsonInvalid(err error) *problem {
	pos := int64(0)
	reason := "Expecting value"
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		pos = max(syn.Offset-1, 0)
		switch msg := syn.Error(); {
		case strings.Contains(msg, "looking for beginning of object key string"):
			reason = "Expecting property name enclosed in double quotes"
		case strings.Contains(msg, "after object key:value pair"), strings.Contains(msg, "after array element"):
			reason = "Expecting ',' delimiter"
		case strings.Contains(msg, "after object key"):
			reason = "Expecting ':' delimiter"
		case strings.Contains(msg, "after top-level value"):
			reason = "Extra data"
		case strings.Contains(msg, "in string literal"):
			reason = "Invalid control character at"
		}
	}
	ctx, _ := json.Marshal(map[string]string{"error": reason})
	return &problem{
		Type: "json_invalid", Loc: []any{"body", pos}, Msg: "JSON decode error",
		Input: json.RawMessage("{}"), Ctx: ctx,
	}
}

func voiceSettings(raw json.RawMessage) (*VoiceSettings, []problem) {
	if isNull(raw) {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, []problem{newProblem("model_attributes_type", bodyLoc("voice_settings"), raw)}
	}
	vs := &VoiceSettings{}
	var problems []problem
	zero, one := 0.0, 1.0
	number := func(name string, ge, le *float64) *float64 {
		field, ok := obj[name]
		if !ok {
			return nil
		}
		v, p := laxFloat(field, bodyLoc("voice_settings", name), ge, le)
		if p != nil {
			problems = append(problems, *p)
		}
		return v
	}
	// Pydantic reports fields in the model's declaration order.
	vs.Stability = number("stability", &zero, &one)
	if field, ok := obj["use_speaker_boost"]; ok {
		v, p := laxBool(field, bodyLoc("voice_settings", "use_speaker_boost"))
		if p != nil {
			problems = append(problems, *p)
		}
		vs.UseSpeakerBoost = v
	}
	vs.SimilarityBoost = number("similarity_boost", &zero, &one)
	// style and speed are documented as 0..1 and 0.7..1.2, but the schema
	// does not bound them and the live API accepts any number.
	vs.Style = number("style", nil, nil)
	vs.Speed = number("speed", nil, nil)
	return vs, problems
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func stringField(raw json.RawMessage, nullable bool, loc []any) (*string, *problem) {
	if nullable && isNull(raw) {
		return nil, nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		p := newProblem("string_type", loc, raw)
		return nil, &p
	}
	return &s, nil
}

// laxFloat accepts JSON numbers, numeric strings and booleans, then
// checks the optional ge/le bounds.
func laxFloat(raw json.RawMessage, loc []any, ge, le *float64) (*float64, *problem) {
	if isNull(raw) {
		return nil, nil
	}
	var v float64
	switch raw[0] {
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			p := newProblem("float_parsing", loc, raw)
			return nil, &p
		}
		v = f
	case 't':
		v = 1
	case 'f':
		v = 0
	case '{', '[':
		p := newProblem("float_type", loc, raw)
		return nil, &p
	default:
		if json.Unmarshal(raw, &v) != nil {
			p := newProblem("float_type", loc, raw)
			return nil, &p
		}
	}
	if ge != nil && v < *ge {
		return nil, boundProblem("greater_than_equal", "greater than or equal to", "ge", *ge, loc, raw)
	}
	if le != nil && v > *le {
		return nil, boundProblem("less_than_equal", "less than or equal to", "le", *le, loc, raw)
	}
	return &v, nil
}

func boundProblem(typ, words, key string, bound float64, loc []any, raw json.RawMessage) *problem {
	// Python prints the bound in the message as 1 but in ctx as 1.0.
	pyFloat := strconv.FormatFloat(bound, 'f', -1, 64)
	if !strings.ContainsAny(pyFloat, ".e") {
		pyFloat += ".0"
	}
	return &problem{
		Type: typ, Loc: loc, Input: raw,
		Msg: "Input should be " + words + " " + strconv.FormatFloat(bound, 'g', -1, 64),
		Ctx: json.RawMessage(`{"` + key + `":` + pyFloat + `}`),
	}
}

func laxBool(raw json.RawMessage, loc []any) (*bool, *problem) {
	if isNull(raw) {
		return nil, nil
	}
	t, f := true, false
	switch raw[0] {
	case 't':
		return &t, nil
	case 'f':
		return &f, nil
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		switch strings.ToLower(s) {
		case "1", "on", "t", "true", "y", "yes":
			return &t, nil
		case "0", "off", "f", "false", "n", "no":
			return &f, nil
		}
		p := newProblem("bool_parsing", loc, raw)
		return nil, &p
	case '{', '[':
		p := newProblem("bool_type", loc, raw)
		return nil, &p
	}
	var n float64
	if json.Unmarshal(raw, &n) == nil {
		switch n {
		case 1:
			return &t, nil
		case 0:
			return &f, nil
		}
	}
	p := newProblem("bool_parsing", loc, raw)
	return nil, &p
}

func laxInt(raw json.RawMessage, loc []any) *problem {
	if isNull(raw) {
		return nil
	}
	switch raw[0] {
	case 't', 'f':
		return nil
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		if _, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
			p := newProblem("int_parsing", loc, raw)
			return &p
		}
		return nil
	case '{', '[':
		p := newProblem("int_type", loc, raw)
		return &p
	}
	var n float64
	if json.Unmarshal(raw, &n) != nil {
		p := newProblem("int_type", loc, raw)
		return &p
	}
	if n != float64(int64(n)) {
		p := newProblem("int_from_float", loc, raw)
		return &p
	}
	return nil
}

func enumField(raw json.RawMessage, loc []any, allowed ...string) *problem {
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		for _, a := range allowed {
			if s == a {
				return nil
			}
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "'" + a + "'"
	}
	expected := strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
	ctx, _ := json.Marshal(map[string]string{"expected": expected})
	return &problem{Type: "enum", Loc: loc, Msg: "Input should be " + expected, Input: raw, Ctx: ctx}
}
