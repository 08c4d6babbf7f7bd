package rexec

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// Option configures Dial. The TLS and token options are those of the
// rexec CLI (--tls-ca, --tls-cert, --tls-key, --tls-server-name,
// --token-file). An Option only records its value; Dial reads the files.
type Option func(*dialConfig)

// dialConfig is what the options chose; Dial turns it into gRPC's dial
// options, reading the files then. Each Dial has its own; not shared.
type dialConfig struct {
	tlsConfig  *tls.Config
	caFile     string
	certFile   string
	keyFile    string
	serverName string
	token      string
	tokenFile  string
	childEnv   string
	// 0: DefaultReceiveLimit.
	receiveLimit int
	// Unset: DefaultKeepaliveTime and DefaultKeepaliveTimeout.
	keepaliveSet     bool
	keepaliveTime    time.Duration
	keepaliveTimeout time.Duration
	extra            []grpc.DialOption
}

// WithTLSConfig turns TLS on with this configuration (the other TLS
// options add to a copy of it).
func WithTLSConfig(config *tls.Config) Option {
	return func(c *dialConfig) { c.tlsConfig = config }
}

// WithTLSCA turns TLS on and trusts the CAs of this PEM file (instead of
// the system's) for the server's certificate.
func WithTLSCA(file string) Option {
	return func(c *dialConfig) { c.caFile = file }
}

// WithTLSCert turns TLS on and presents this client certificate and key
// (PEM files), for a server that requires mTLS.
func WithTLSCert(certFile, keyFile string) Option {
	return func(c *dialConfig) { c.certFile, c.keyFile = certFile, keyFile }
}

// WithTLSServerName is the name to expect in the server's certificate,
// when it is not the host of the target.
func WithTLSServerName(name string) Option {
	return func(c *dialConfig) { c.serverName = name }
}

// WithToken sends this bearer token with every call
// ("authorization: Bearer TOKEN"). It is refused at Dial, as the CLI
// refuses it, when it would travel in plaintext off this machine: without
// TLS the target must be loopback or a unix socket.
func WithToken(token string) Option {
	return func(c *dialConfig) { c.token = token }
}

// WithTokenFile is WithToken with the first line of this file.
func WithTokenFile(file string) Option {
	return func(c *dialConfig) { c.tokenFile = file }
}

// The values of WithChildEnv and REXEC_CHILD_ENV.
const (
	// ChildEnvServer: a Cmd with Env nil gets the server's environment
	// (under a policy, its rule's). The default: this process's HOME, PATH
	// and secrets describe this machine, and go to the server only when
	// asked.
	ChildEnvServer = "server"
	// ChildEnvCaller: a Cmd with Env nil gets this process's environment,
	// os.Environ(), as a local child inherits it; the server leaves out
	// what its policy does not let a client set (the API's caller_env).
	ChildEnvCaller = "caller"
)

// WithChildEnv chooses what a Cmd with Env nil gets: ChildEnvServer (the
// default) or ChildEnvCaller. DialEnv reads it from REXEC_CHILD_ENV.
func WithChildEnv(choice string) Option {
	return func(c *dialConfig) { c.childEnv = choice }
}

// childEnvChoice is the choice of WithChildEnv, checked.
func (c *dialConfig) childEnvChoice() (string, error) {
	if c.childEnv == "" {
		return ChildEnvServer, nil
	}
	return c.childEnv, checkChildEnv(c.childEnv, "child environment ")
}

// checkChildEnv says what is wrong with a choice of child environment,
// named as where it came from said it.
func checkChildEnv(choice, where string) error {
	if choice == ChildEnvServer || choice == ChildEnvCaller {
		return nil
	}
	return fmt.Errorf("rexec: %s%q: it must be %q or %q", where, choice, ChildEnvServer, ChildEnvCaller)
}

// WithReceiveLimit is the largest message, in bytes, that a call takes
// from the server (default DefaultReceiveLimit, 4 MiB); a larger one fails
// the call with codes.ResourceExhausted, naming the server and the limit,
// before it is read. A raw Exec call sets its own with ExecReceiveLimit.
func WithReceiveLimit(bytes int) Option {
	return func(c *dialConfig) { c.receiveLimit = bytes }
}

// The client's keepalive unless WithKeepalive says otherwise: while a
// call is open, a ping after 30 s without a byte from the server (half of
// what idle NATs and load balancers commonly keep, and three times
// rexecd's --keepalive-min-time, the most often it takes pings without
// closing the connection with GOAWAY too_many_pings), answered within 20 s.
const (
	DefaultKeepaliveTime    = 30 * time.Second
	DefaultKeepaliveTimeout = 20 * time.Second
)

// WithKeepalive sets how the client finds a server that froze or vanished
// without closing the connection (a host gone, a SIGSTOP): while a call is
// open, gRPC pings the server after keepaliveTime without a byte from it
// (grpc-go waits at least 10 s), and closes the connection when no answer
// comes within timeout; the commands running on it fail with an *Error
// whose status is codes.Unavailable. A keepaliveTime of 0 sends no pings:
// a command whose child prints nothing then waits for a frozen server for
// ever. Default DefaultKeepaliveTime, DefaultKeepaliveTimeout.
func WithKeepalive(keepaliveTime, timeout time.Duration) Option {
	return func(c *dialConfig) {
		c.keepaliveSet, c.keepaliveTime, c.keepaliveTimeout = true, keepaliveTime, timeout
	}
}

// keepaliveOption is the dial option of WithKeepalive's choice, checked;
// nil for no pings. Pings only while a call is open: rexecd holds pings
// on a connection without calls to one in two hours.
func (c *dialConfig) keepaliveOption() (grpc.DialOption, error) {
	t, timeout := DefaultKeepaliveTime, DefaultKeepaliveTimeout
	if c.keepaliveSet {
		t, timeout = c.keepaliveTime, c.keepaliveTimeout
	}
	if t < 0 || timeout <= 0 {
		return nil, fmt.Errorf("rexec: a keepalive of %v, answered within %v: the time must be 0 or more, the timeout more than 0", t, timeout)
	}
	if t == 0 {
		return nil, nil
	}
	return grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: t, Timeout: timeout}), nil
}

// WithDialOptions adds gRPC dial options (interceptors, keepalive...),
// applied after this package's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *dialConfig) { c.extra = append(c.extra, opts...) }
}

func (c *dialConfig) usesTLS() bool {
	return c.tlsConfig != nil || c.caFile != "" || c.certFile != ""
}

// transport is what every connection of a Client is dialed with.
// Immutable once made.
type transport struct {
	tls    credentials.TransportCredentials                // nil: plaintext
	dialer func(context.Context, string) (net.Conn, error) // nil: grpc-go's own
	// The call credentials, the keepalive, the receive limit and its
	// guard, then the caller's options.
	options []grpc.DialOption
}

// transport is the credentials and the dialer for target.
func (c *dialConfig) transport(target string) (transport, error) {
	if (c.certFile == "") != (c.keyFile == "") {
		return transport{}, errors.New("rexec: a TLS client certificate and its key go together")
	}
	var t transport
	if c.usesTLS() {
		config, err := c.buildTLS(target)
		if err != nil {
			return transport{}, err
		}
		t.tls = credentials.NewTLS(config)
	}
	if isUnixTarget(target) {
		t.dialer = dialUnix
	}
	token, err := c.readToken()
	if err != nil {
		return transport{}, err
	}
	if token != "" {
		if !c.usesTLS() && !isUnixTarget(target) && !isLoopbackTarget(target) {
			return transport{}, fmt.Errorf("rexec: not sending a bearer token in plaintext to %s: "+
				"use TLS (WithTLSCA), a unix socket or a loopback address", target)
		}
		t.options = append(t.options, grpc.WithPerRPCCredentials(bearerToken{token: token, tls: c.usesTLS()}))
	}
	limit := c.receiveLimit
	if limit == 0 {
		limit = DefaultReceiveLimit
	}
	if limit < 0 {
		return transport{}, fmt.Errorf("rexec: a receive limit of %d bytes: it must be positive", limit)
	}
	pings, err := c.keepaliveOption()
	if err != nil {
		return transport{}, err
	}
	if pings != nil {
		t.options = append(t.options, pings)
	}
	guard := receiveGuard{target: target}
	t.options = append(t.options, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(limit)),
		grpc.WithChainUnaryInterceptor(guard.unary), grpc.WithChainStreamInterceptor(guard.stream))
	t.options = append(t.options, c.extra...)
	return t, nil
}

// dialOptions are the options of one connection, whose server's SETTINGS
// go to limit: through the TLS credentials, or the dialer in plaintext.
func (t transport) dialOptions(limit *streamLimit) []grpc.DialOption {
	var opts []grpc.DialOption
	if t.tls != nil {
		opts = append(opts, grpc.WithTransportCredentials(watchedCredentials{t.tls, limit}))
		if t.dialer != nil {
			opts = append(opts, grpc.WithContextDialer(t.dialer))
		}
	} else {
		dialer := t.dialer
		if dialer == nil {
			dialer = dialTCP
		}
		opts = append(opts, grpc.WithInsecure(), grpc.WithContextDialer(
			func(ctx context.Context, addr string) (net.Conn, error) {
				conn, err := dialer(ctx, addr)
				if err != nil {
					return nil, err
				}
				return limit.watch(conn), nil
			}))
	}
	return append(opts, t.options...)
}

func (c *dialConfig) buildTLS(target string) (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsConfig != nil {
		config = c.tlsConfig.Clone()
	}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("rexec: TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rexec: TLS CA: no PEM certificate in %s", c.caFile)
		}
		config.RootCAs = pool
	}
	if c.certFile != "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return nil, fmt.Errorf("rexec: TLS client certificate: %w", err)
		}
		config.Certificates = append(config.Certificates, cert)
	}
	if c.serverName != "" {
		config.ServerName = c.serverName
	} else if config.ServerName == "" && isUnixTarget(target) {
		// gRPC names a unix socket's authority "localhost", as rexecd's
		// own clients do; a path is no name to verify.
		config.ServerName = "localhost"
	}
	return config, nil
}

func (c *dialConfig) readToken() (string, error) {
	if c.tokenFile == "" {
		return c.token, nil
	}
	text, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("rexec: token file: %w", err)
	}
	line := string(text)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	token := strings.TrimSpace(line)
	if token == "" {
		return "", fmt.Errorf("rexec: token file %s: the first line is empty", c.tokenFile)
	}
	return token, nil
}
