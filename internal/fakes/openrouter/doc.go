// Package openrouter is an in-process stand-in for the OpenRouter HTTP API
// (https://openrouter.ai/docs), used by tzurot's tests and by the offline
// `tzurot dev` mode.
//
// The fake sits at the network edge: the product talks to it with the same
// OpenAI-compatible client it uses in production, so it has to answer with
// OpenRouter's status codes, JSON error bodies and headers rather than with
// whatever would be convenient for a mock. Point the client at
//
//	srv := httptest.NewServer(openrouter.New(openrouter.Options{}))
//	OPENROUTER_BASE_URL = srv.URL + "/api/v1"
//
// or run it on a port with [Server.ListenAndServe] / [Server.Serve].
//
// # Routes
//
//   - GET  /api/v1/models: public model catalogue.
//   - GET  /api/v1/key (alias /api/v1/auth/key): describes the bearer key.
//   - POST /api/v1/chat/completions: deterministic chat completions, with
//     SSE streaming when "stream" is true, reasoning when the request asks
//     for it with the "reasoning" object or "include_reasoning", and PNG
//     images when "modalities" contains "image".
//   - POST /api/v1/embeddings: deterministic vectors ([Embedding]) of
//     openai/text-embedding-3-small (1536 dimensions) and -3-large (3072),
//     or fewer when "dimensions" asks, in which texts that share words are
//     near each other, so recall can be tested; usage and cost as for chat.
//
// # Replies
//
// A normal reply is [EchoReply] of the routed model and the last user
// message, so tests can assert on it and the demo shows something sensible.
// Token counts are ceil(characters/4) per message; cost is tokens times the
// catalogue price and is charged to the key's credits. Every answer carries
// usage accounting as OpenRouter documents it: usage.cost in credits (USD),
// is_byok false and cost_details, whether or not the request sent the
// deprecated "usage": {"include": true}.
//
// # Keys
//
// Keys registered with [Server.AddKey] are always authoritative. With
// Options.AcceptAnyKey (the offline demo), any other key of the form
// "sk-or-v1-" followed by at least 8 characters from [0-9a-z] is accepted with
// unlimited credits, unless the text after the prefix contains a magic word:
//
//   - "dead":  401 "User not found." on /key and chat completions.
//   - "broke": /key answers with limit_remaining 0; chat completions get 402.
//   - "busy":  429 with "Retry-After: 1" on every route, /models included.
//   - "daily": chat completions of free models (":free", openrouter/free)
//     get the 429 of the daily free-model cap (FreeModelsPerDay(50)); paid
//     models and /key work.
//
// For example "sk-or-v1-deadbeef00", "sk-or-v1-broke123", "sk-or-v1-busy0000".
// Magic words are matched as substrings, and "dead" is valid hex, so about
// one real 64-hex-digit key in a thousand contains it; register such a key
// with AddKey to exempt it.
//
// # Scripted failures
//
// [Server.Script] queues per-key outcomes for chat completions and
// embeddings, consumed one per call: [Fail], [FailWithRetryAfter],
// [FailInBody], [FailInChoice], [FreeModelsPerDay], [RateLimitedUntil],
// [Think], [Finish], [Reply], [Delay] and [OK] (embeddings answer the
// in-body failures as Fail, and the reply steps as OK). Scripted failures bypass billing and model
// checks; scripted replies do not, because a script replaces the model's
// answer, not OpenRouter's gatekeeping. Fail(401) on a key that /key still
// reports as valid reproduces OpenRouter's known transient 401.
//
// Reasoning models spend max_tokens on their reasoning first, as OpenRouter
// documents (reasoning tokens are output tokens): a small max_tokens leaves
// the answer short or, with [Think], empty with finish_reason "length".
//
// Every request, failed or not, is recorded and available from
// [Server.Calls]. A call whose client went away before the answer was
// written is recorded with status 499.
package openrouter
