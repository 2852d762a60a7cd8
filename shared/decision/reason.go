package decision

// Reason is a stable snake_case code that names why a decision was taken.
// The same code appears in logs, response bodies and tests.
type Reason string

// Reason codes. Allowed decisions carry ReasonOK.
const (
	ReasonOK Reason = "ok"

	// unauthenticated (401)
	TokenMissing        Reason = "token_missing"
	TokenMalformed      Reason = "token_malformed"
	TokenTooLarge       Reason = "token_too_large"
	TokenEncrypted      Reason = "token_encrypted_unsupported"
	DecryptionFailed    Reason = "token_decryption_failed"
	AlgorithmNotAllowed Reason = "algorithm_not_allowed"
	CritUnsupported     Reason = "crit_unsupported"
	TypeNotAllowed      Reason = "token_type_not_allowed"
	KeyUnknown          Reason = "key_unknown"
	KeyMismatch         Reason = "key_algorithm_mismatch"
	SignatureInvalid    Reason = "signature_invalid"
	IssuerInvalid       Reason = "issuer_invalid"
	AudienceInvalid     Reason = "audience_invalid"
	TokenExpired        Reason = "token_expired"
	ExpirationMissing   Reason = "expiration_missing"
	TokenNotYetValid    Reason = "token_not_yet_valid"
	IssuedInFuture      Reason = "token_issued_in_future"
	ClaimsMalformed     Reason = "claims_malformed"
	EventMalformed      Reason = "event_malformed"
	TenantMismatch      Reason = "tenant_mismatch"
	TenantNotAllowed    Reason = "tenant_not_allowed"
	KeyIssuerMismatch   Reason = "key_issuer_mismatch"
	TokenUseInvalid     Reason = "token_use_invalid"

	// unauthenticated (401): sender-constrained tokens
	DPoPProofInvalid           Reason = "dpop_proof_invalid"
	DPoPReplayed               Reason = "dpop_replayed"
	DPoPBindingMismatch        Reason = "dpop_binding_mismatch"
	TokenBound                 Reason = "token_bound"
	TokenNotBound              Reason = "token_not_bound"
	CertificateMissing         Reason = "certificate_missing"
	CertificateBindingMismatch Reason = "certificate_binding_mismatch"

	// forbidden (403)
	ScopeMissing     Reason = "scope_missing"
	ClaimMissing     Reason = "claim_missing"
	RouteDenied      Reason = "route_denied"
	RuleDenied       Reason = "rule_denied"        // a CEL rule gave false
	RuleError        Reason = "rule_error"         // a CEL rule failed at run time (fail closed)
	ClientNotAllowed Reason = "client_not_allowed" // 401 with an APIM <validate-azure-ad-token> import, as APIM answers

	// unavailable (503)
	KeysUnavailable Reason = "keys_unavailable"
	InternalError   Reason = "internal_error"
	// unavailable (503): the DPoP replay store could not be reached, so a
	// proof cannot be checked for replay (never allow).
	ReplayStoreUnavailable Reason = "replay_store_unavailable"
)
