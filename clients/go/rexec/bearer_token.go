package rexec

import "context"

// bearerToken is gRPC call credentials that send
// "authorization: Bearer TOKEN" with each call. Immutable; safe for
// concurrent use.
type bearerToken struct {
	token string
	// Whether the connection is TLS. Without it the token may still go to
	// loopback or a unix socket (Dial checked the target), which gRPC
	// allows only for credentials that do not require transport security.
	tls bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerToken) RequireTransportSecurity() bool { return b.tls }
