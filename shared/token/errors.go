// Package token parses and verifies compact JWS tokens strictly: shape and
// size, base64url, header and payload JSON, the algorithm against the
// allowlist and the key, and the signature. It knows nothing of issuers,
// audiences or platforms; the validator (package validate) does.
package token

import (
	"fmt"

	"github.com/jwtgate/jwtgate/shared/decision"
)

// Error is a refusal with a stable reason code. Its message is safe to log
// and to show to the caller: it never holds the token or a signature.
type Error struct {
	Reason decision.Reason
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func fail(r decision.Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Msg: fmt.Sprintf(format, args...)}
}
