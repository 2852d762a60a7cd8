package core

import (
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/jwe"
	"github.com/jwtgate/jwtgate/shared/token"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// newDecrypter builds the JWE decrypter for configured decryption keys
// (APIM <decryption-keys>); encrypted tokens are refused without them.
func newDecrypter(cfg *config.Config) (validate.Decrypter, error) {
	max := cfg.MaxTokenBytes
	if max <= 0 {
		max = config.DefaultMaxTokenBytes
	}
	d, err := jwe.NewDecrypter(cfg.DecryptionKeys, jwe.WithMaxBytes(max))
	if err != nil {
		return nil, err
	}
	return reasoned{d}, nil
}

// reasoned gives decryption failures their reason codes (crit_unsupported,
// algorithm_not_allowed, key_unknown, …) instead of one generic code.
type reasoned struct{ d *jwe.Decrypter }

func (r reasoned) Decrypt(compact []byte) ([]byte, error) {
	out, err := r.d.Decrypt(compact)
	if err != nil {
		return nil, &token.Error{Reason: jwe.Reason(err), Msg: "encrypted token refused", Err: err}
	}
	return out, nil
}
