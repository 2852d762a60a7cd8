package core

import (
	"github.com/jwtgate/jwtgate/shared/config"
	"github.com/jwtgate/jwtgate/shared/jwe"
	"github.com/jwtgate/jwtgate/shared/validate"
)

// newDecrypter builds the JWE decrypter for configured decryption keys
// (APIM <decryption-keys>); encrypted tokens are refused without them.
func newDecrypter(cfg *config.Config) (validate.Decrypter, error) {
	max := cfg.MaxTokenBytes
	if max <= 0 {
		max = config.DefaultMaxTokenBytes
	}
	return jwe.NewDecrypter(cfg.DecryptionKeys, jwe.WithMaxBytes(max))
}
