// Package openrouter is tzurot's client for the OpenRouter API (chat,
// embeddings, key checks), called with each user's own key (BYOK).
//
// OpenRouter speaks the OpenAI wire format plus extensions. The client
// speaks it in github.com/sashabaranov/go-openai's types (the messages it
// sends, the usage and finish reason it reads, the content parts some
// providers answer with, *openai.APIError for an error answer) and adds
// OpenRouter's extensions in one place each way:
//
//   - The request body is built once, in chatBody: model and messages, and
//     beside them every field the advanced parameters set (reasoning, top_k,
//     min_p, transforms, route, …) and modalities. go-openai's request type
//     could carry none of OpenRouter's fields, and its float32 omitempty
//     sampling fields would turn 0.7 into 0.699999988079071 and drop an
//     explicit temperature 0.
//   - The response is decoded once, into completion: OpenAI's fields and
//     the ones go-openai's response type drops (provider, usage.cost, the
//     message's reasoning and images, native_finish_reason, and the error
//     object OpenRouter puts in a 200 when the upstream fails late).
//
// [Client.ChatStream] reads OpenRouter's server-sent events itself the same
// way (sse.go, stream.go), for the reasons its documentation gives.
//
// The client makes the HTTP exchange itself, with the caller's
// [http.Client] and transport (where the product puts otelhttp), because
// go-openai's CreateChatCompletion (v1.43) neither sends extra body fields
// nor exposes the body it decoded. It also sends OpenRouter's app
// attribution headers (HTTP-Referer, X-Title). Per-call state is local to
// the call, so one [Client] serves any number of users' requests at once.
//
// # Errors
//
// Every failure of [Client.Chat], [Client.ChatStream], [Client.Embed] and
// [Client.CheckKey] that came from OpenRouter or the network is an
// [*Error]; [AsError] extracts it. Its Kind says what the caller can do
// about it (tell the user their key is bad, wait and retry, give up), and
// [Error.Retryable] is the one bit a retry policy needs. Messages are the
// provider's own words. Every error a method returns (a ChatStream
// callback's own error too) passes once through the client's edge, which
// removes the key of the call (literally, and every secret
// [github.com/tzurot/tzurot/internal/redact] recognises) from the message,
// the metadata and every error in the chain beneath, so errors are safe to
// show to the user and to log.
package openrouter
