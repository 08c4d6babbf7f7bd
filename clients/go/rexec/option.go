package rexec

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
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
	extra      []grpc.DialOption
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

// WithDialOptions adds gRPC dial options (interceptors, keepalive...),
// applied after this package's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *dialConfig) { c.extra = append(c.extra, opts...) }
}

func (c *dialConfig) usesTLS() bool {
	return c.tlsConfig != nil || c.caFile != "" || c.certFile != ""
}

// grpcOptions are the transport and call credentials for target.
func (c *dialConfig) grpcOptions(target string) ([]grpc.DialOption, error) {
	if (c.certFile == "") != (c.keyFile == "") {
		return nil, errors.New("rexec: a TLS client certificate and its key go together")
	}
	var opts []grpc.DialOption
	if c.usesTLS() {
		config, err := c.buildTLS(target)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	} else {
		opts = append(opts, grpc.WithInsecure())
	}
	if isUnixTarget(target) {
		opts = append(opts, grpc.WithContextDialer(dialUnix))
	}
	token, err := c.readToken()
	if err != nil {
		return nil, err
	}
	if token != "" {
		if !c.usesTLS() && !isUnixTarget(target) && !isLoopbackTarget(target) {
			return nil, fmt.Errorf("rexec: not sending a bearer token in plaintext to %s: "+
				"use TLS (WithTLSCA), a unix socket or a loopback address", target)
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken{token: token, tls: c.usesTLS()}))
	}
	return opts, nil
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
