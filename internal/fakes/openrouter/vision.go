package openrouter

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// DescribeImages is what the stand-in "sees" in a request's images, added
// to its echo: per image its media type, size in bytes and the first 8 hex
// digits of the SHA-256 of its bytes (of the URL, for a URL that is not a
// base64 data URL), so a test can tell which image reached which model.
func DescribeImages(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		out[i] = "[image " + describeImage(u) + "]"
	}
	return strings.Join(out, " ")
}

func describeImage(url string) string {
	meta, data, ok := strings.Cut(strings.TrimPrefix(url, "data:"), ",")
	if !ok || !strings.HasPrefix(url, "data:") || !strings.HasSuffix(meta, ";base64") {
		return "url " + ImageDigest([]byte(url))
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "undecodable"
	}
	return fmt.Sprintf("%s %d bytes %s", strings.TrimSuffix(meta, ";base64"), len(raw), ImageDigest(raw))
}

// ImageDigest is the short digest DescribeImages names an image's bytes by.
func ImageDigest(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b))[:8] }
