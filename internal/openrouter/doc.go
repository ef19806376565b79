// Package openrouter is tzurot's client for the OpenRouter chat API, called
// with each user's own key (BYOK).
//
// OpenRouter speaks the OpenAI wire format plus extensions, so the client is
// built on github.com/sashabaranov/go-openai for what that library does well
// (building the standard request, the Authorization header, decoding error
// envelopes into *openai.APIError and *openai.RequestError) and adds a thin
// [http.RoundTripper] for what it cannot express:
//
//   - Request fields go-openai has no struct field for (reasoning, top_k,
//     min_p, top_a, repetition_penalty, transforms, route, modalities, ...)
//     travel per call in the request context and are merged into the JSON
//     body on the way out. The standard sampling fields go the same way:
//     go-openai declares them float32 with omitempty, which would turn 0.7
//     into 0.699999988079071 and silently drop an explicit temperature 0.
//   - OpenRouter's app attribution headers (HTTP-Referer, X-Title).
//   - The raw response body and headers of each call are kept, again per
//     call through the context, because go-openai's response type drops
//     choices[0].message.reasoning and .images, treats an error object in a
//     200 body as an empty success, and never exposes Retry-After.
//
// Per-call state lives in the context rather than on the client so one
// [Client] can serve any number of users' requests concurrently.
//
// # Errors
//
// Every failure of [Client.Chat] and [Client.CheckKey] that came from
// OpenRouter or the network is an [*Error]; [AsError] extracts it. Its Kind
// says what the caller can do about it (tell the user their key is bad, wait
// and retry, give up), and [Error.Retryable] is the one bit a retry policy
// needs. Messages are the provider's own words, passed through
// [github.com/tzurot/tzurot/internal/redact] and scrubbed of the key used for
// the call, so they are safe to show to the user and to log.
package openrouter
