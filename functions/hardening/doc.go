// Package hardening holds jwtgate's reliability and security tests: hostile
// tokens and hostile platform events through both adapters, a failing
// identity provider, sustained load on the Azure handler binary, secret
// hygiene and fail-closed checks at every step of a decision.
//
// Besides the tests it exports the test fixtures they are built on, so the
// long runs (make soak, make fuzz-long) and other packages can reuse them:
//
//   - FaultIssuer: a loopback OpenID issuer (discovery + JWKS) that can be
//     told to misbehave: answer slowly, dribble its headers, reset the
//     connection, answer 500 or 429, serve a malformed or oversized JWKS,
//     announce another issuer or a jwks_uri elsewhere, drop a key.
//   - SignRaw and friends: sign arbitrary header and payload bytes, so a
//     test can craft tokens no JSON encoder would produce (duplicate names,
//     invalid UTF-8, deep nesting).
//   - RunLoad: a bounded HTTP load loop for 127.0.0.1 only.
//   - RSS: a process's resident set size from /proc.
//
// Nothing here is used by the product binaries.
package hardening
