// Package deliverykey is the one format of a delivery key: the name under
// which the deliveries table records a post to Discord, so that a retried
// activity finds the post it already made instead of posting again.
//
// A key is <workflow id>/<purpose>[/<part>]: the id of the workflow that
// posts (reply/<request id>, imagine/<interaction id>), what the post is
// for (Reply, DM, VoiceDM, Post) and, for each message of a post split to
// fit Discord's 2,000 characters, its index from 0. Activities receive the
// key of the whole post (New) and record each message under its Part.
package deliverykey

import (
	"fmt"
	"strconv"
	"strings"
)

// Purposes of a post.
const (
	// Reply is a personality's answer, or the notice saying why there is none.
	Reply = "reply"
	// DM is the direct message telling a user their key was refused.
	DM = "dm"
	// VoiceDM is the direct message telling a user their voice key failed.
	VoiceDM = "voice-dm"
	// Post is /imagine's image post, or its notice.
	Post = "post"
	// Counted is no post: the row recording that the workflow's reply was
	// counted in tzurot_replies_total (store.Once), so a retry counts nothing.
	Counted = "counted"
	// Stream is a personality's answer posted while the model writes it
	// (activities.StreamWriter); never also posted under Reply.
	Stream = "stream"
)

// New is the key of the whole post that the workflow workflowID makes for
// purpose: "reply/123/reply".
func New(workflowID, purpose string) string { return workflowID + "/" + purpose }

// Part is the key of message i (from 0) of the post keyed key: "reply/123/reply/0".
func Part(key string, i int) string { return key + "/" + strconv.Itoa(i) }

// Key is a delivery key taken apart.
type Key struct {
	// Workflow is the posting workflow's id: "reply/123".
	Workflow string
	// Purpose is what the post is for: Reply, DM, VoiceDM, Post.
	Purpose string
	// Part is the message's index within the post; -1 for a whole post's key.
	Part int
}

// String is the key in its stored form.
func (k Key) String() string {
	if k.Part < 0 {
		return New(k.Workflow, k.Purpose)
	}
	return Part(New(k.Workflow, k.Purpose), k.Part)
}

// Parse takes s apart: a trailing number is the part, the segment before it
// the purpose, the rest the workflow id. An error when s has no workflow id
// and purpose.
func Parse(s string) (Key, error) {
	k := Key{Part: -1}
	rest := s
	if head, last, ok := cutLast(rest); ok {
		if n, err := strconv.Atoi(last); err == nil && n >= 0 {
			k.Part, rest = n, head
		}
	}
	workflow, purpose, ok := cutLast(rest)
	if !ok || workflow == "" || purpose == "" {
		return Key{}, fmt.Errorf("delivery key %q is not <workflow id>/<purpose>[/<part>]", s)
	}
	k.Workflow, k.Purpose = workflow, purpose
	return k, nil
}

// cutLast splits s around its last slash.
func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
