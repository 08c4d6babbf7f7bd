package rexec

import (
	"context"
	"net"
	"strings"
)

// What a target names decides whether a token may travel in plaintext
// (rexecd refuses one over a network without TLS, and so do its clients)
// and how to reach it: grpc-go 1.33 has no resolver for unix: targets, so
// Dial brings its own dialer for them.

func isUnixTarget(target string) bool {
	return strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:")
}

// isLoopbackTarget: "127.0.0.1:N", "[::1]:N" or "localhost:N", also with a
// dns: or passthrough: scheme. Anything percent-encoded is not, since gRPC
// decodes what was not read here.
func isLoopbackTarget(target string) bool {
	if strings.Contains(target, "%") {
		return false
	}
	for _, scheme := range []string{"dns:///", "dns:", "passthrough:///"} {
		if strings.HasPrefix(target, scheme) {
			target = target[len(scheme):]
			break
		}
	}
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dialUnix connects to a unix: or unix-abstract: target. gRPC hands it the
// whole target (its passthrough resolver), or only the path (the unix
// resolver of later grpc-go versions).
func dialUnix(ctx context.Context, addr string) (net.Conn, error) {
	switch {
	case strings.HasPrefix(addr, "unix-abstract:"):
		addr = "@" + strings.TrimPrefix(addr, "unix-abstract:")
	case strings.HasPrefix(addr, "unix://"):
		addr = strings.TrimPrefix(addr, "unix://")
	case strings.HasPrefix(addr, "unix:"):
		addr = strings.TrimPrefix(addr, "unix:")
	}
	var dialer net.Dialer
	return dialer.DialContext(ctx, "unix", addr)
}

// dialTCP is the dialer of a plaintext TCP target, in place of grpc-go's
// so that the connection can be watched (stream_limit.go). Unlike grpc-go's
// it goes through no proxy that HTTPS_PROXY names, which would skip a
// loopback target anyway: a plaintext rexecd elsewhere (--insecure) is
// reached directly.
func dialTCP(ctx context.Context, addr string) (net.Conn, error) {
	var dialer net.Dialer
	return dialer.DialContext(ctx, "tcp", addr)
}
