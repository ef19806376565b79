package discord

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Discord's CDN signs attachment URLs since December 2023:
// ?ex=<expiry>&is=<issued>&hm=<signature>, the times in hex Unix seconds.
// A URL past its ex, or without the parameters, answers 404 "This content
// is no longer available."; fetching the message again
// (GET /channels/{channel.id}/messages/{message.id}) gives fresh URLs.
// The stand-in signs every URL it hands out for AttachmentURLLifetime, and
// ExpireAttachmentURLs makes every URL handed out so far expire at once.

// AttachmentURLLifetime is how long a signed attachment URL is valid: 24
// hours, as on Discord.
const AttachmentURLLifetime = 24 * time.Hour

// urlSeq numbers signed URLs; hm carries the number, so the stand-in can
// expire all URLs signed up to a point.
var urlSeq atomic.Uint64

// signURL is base with Discord's signature parameters.
func signURL(base string) string {
	now := time.Now()
	return fmt.Sprintf("%s?ex=%x&is=%x&hm=%016x", base, now.Add(AttachmentURLLifetime).Unix(), now.Unix(), urlSeq.Add(1))
}

// ExpireAttachmentURLs makes every attachment URL handed out so far answer
// 404 as an expired one does; messages fetched again carry fresh ones.
func (s *Server) ExpireAttachmentURLs() {
	s.mu.Lock()
	s.expiredSeq = urlSeq.Load()
	s.mu.Unlock()
}

// SetBaseURL is the scheme and host of the server as its clients reach it,
// for the attachment URLs of messages posted with PostUserMessage (those
// of messages the bot sends use the request's host).
func (s *Server) SetBaseURL(base string) {
	s.mu.Lock()
	s.baseURL = base
	s.mu.Unlock()
}

// serveAttachment answers the CDN's GET of an attachment: its bytes while
// the URL's signature holds; 404 once it expired (ex in the past, or
// expired by ExpireAttachmentURLs) or without one.
func (s *Server) serveAttachment(id string, q url.Values) reply {
	a, ok := s.attachments[id]
	if !ok || !s.signedNowLocked(q) {
		return reply{status: http.StatusNotFound, raw: []byte("This content is no longer available."), contentType: "text/plain"}
	}
	return reply{status: http.StatusOK, raw: a.Data, contentType: a.ContentType}
}

func (s *Server) signedNowLocked(q url.Values) bool {
	ex, err1 := strconv.ParseInt(q.Get("ex"), 16, 64)
	seq, err2 := strconv.ParseUint(q.Get("hm"), 16, 64)
	return err1 == nil && err2 == nil && time.Now().Unix() <= ex && seq > s.expiredSeq
}

// SignedURL is a's URL as a message fetched now carries it: signed, valid
// for AttachmentURLLifetime.
func SignedURL(a Attachment) string { return signURL(a.URL) }
