package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// File is an uploaded attachment as it arrived in a multipart request.
type File struct {
	Name        string
	ContentType string
	Data        []byte
	// id is n of its files[n] form field: the id an edit's attachments
	// list names it by.
	id string
}

// payload is a request body decoded the two ways Discord accepts it: plain
// JSON, or multipart/form-data with a payload_json part plus files[n] parts.
type payload struct {
	object map[string]any
	array  []any
	files  []File
	// fail is the answer to give once the route is known to take a body.
	fail *reply
}

func parsePayload(r *http.Request, body []byte) payload {
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		return parseMultipart(body, params["boundary"])
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return payload{}
	}
	return parseJSON(body)
}

func parseJSON(body []byte) payload {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		rep := apiError(http.StatusBadRequest, codeInvalidJSON, "The request body contains invalid JSON.")
		return payload{fail: &rep}
	}
	switch t := v.(type) {
	case map[string]any:
		return payload{object: t}
	case []any:
		return payload{array: t}
	}
	return payload{}
}

func parseMultipart(body []byte, boundary string) payload {
	bad := func() payload {
		rep := apiError(http.StatusBadRequest, 0, "400: Bad Request")
		return payload{fail: &rep}
	}
	if boundary == "" {
		return bad()
	}
	var p payload
	fields := map[string]any{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad()
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return bad()
		}
		name := part.FormName()
		switch {
		case part.FileName() != "":
			ct := part.Header.Get("Content-Type")
			if ct == "" {
				ct = "application/octet-stream"
			}
			id := strings.TrimSuffix(strings.TrimPrefix(name, "files["), "]")
			p.files = append(p.files, File{Name: part.FileName(), ContentType: ct, Data: data, id: id})
		case name == "payload_json":
			inner := parseJSON(data)
			if inner.fail != nil {
				return inner
			}
			p.object = inner.object
		default:
			// Discord also accepts plain form fields for top-level params.
			fields[name] = string(data)
		}
	}
	if p.object == nil && len(fields) > 0 {
		p.object = fields
	}
	for _, f := range p.files {
		if len(f.Data) > maxFileBytes {
			rep := tooLarge()
			p.fail = &rep
		}
	}
	return p
}

// Accessors tolerate absent or mistyped fields; validation reports those
// separately where Discord would.

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func num(m map[string]any, key string) int {
	switch v := m[key].(type) {
	case float64:
		return int(v)
	case string:
		var n int
		if err := json.Unmarshal([]byte(v), &n); err == nil {
			return n
		}
	}
	return 0
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func objects(m map[string]any, key string) []map[string]any {
	var out []map[string]any
	for _, v := range list(m, key) {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

func truthy(s string) bool {
	return strings.EqualFold(s, "true") || s == "1"
}
