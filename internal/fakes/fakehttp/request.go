package fakehttp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Request sends one raw HTTP request, for tests that speak to a fake below
// a client library: body is sent as is when it is a string, as JSON
// otherwise (nil sends none), with header added. It returns the response
// with its body read whole (resp.Body is then closed).
func Request(method, url string, header http.Header, body any) (*http.Response, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}
