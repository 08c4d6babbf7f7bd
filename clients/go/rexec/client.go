package rexec

import (
	"context"
	"os"

	"google.golang.org/grpc"
)

// Client is a server to run commands on, with its credentials: one gRPC
// connection first, and as many more as the commands running at once need
// (see connection_pool.go). Safe for concurrent use; Close it when no command
// of it runs.
type Client struct {
	pool     connectionPool
	childEnv string // ChildEnvServer or ChildEnvCaller
}

// Dial makes a Client for target: "host:port" or "unix:/path" (also
// "unix:///path" and "unix-abstract:name"). Without TLS options the
// connection is plaintext, which rexecd serves on loopback and unix
// sockets only. Like grpc.Dial it does not wait for the connection: a
// server that cannot be reached fails the first command with Unavailable.
func Dial(target string, opts ...Option) (*Client, error) {
	var config dialConfig
	for _, opt := range opts {
		opt(&config)
	}
	transport, err := config.transport(target)
	if err != nil {
		return nil, err
	}
	childEnv, err := config.childEnvChoice()
	if err != nil {
		return nil, err
	}
	c := &Client{pool: connectionPool{target: target, transport: transport}, childEnv: childEnv}
	if err := c.pool.dialFirst(); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the connections; commands still running on them fail.
func (c *Client) Close() error { return c.pool.close() }

// Conn is the client's first connection, with its credentials, for the
// calls this package does not wrap (Exec, Fork, sessions):
// rexecpb.NewChildProcessClient(c.Conn()). Commands run on it too, and on
// more connections when it has as many calls open as the server takes on
// one; calls made through Conn are not counted.
func (c *Client) Conn() *grpc.ClientConn { return c.pool.first() }

// Command is the package's Command on this client's server.
func (c *Client) Command(name string, arg ...string) *Cmd {
	return newCmd(c, name, arg)
}

// CommandContext is the package's CommandContext on this client's server.
func (c *Client) CommandContext(ctx context.Context, name string, arg ...string) *Cmd {
	return withContext(ctx, newCmd(c, name, arg))
}

// inheritedEnv is what a Cmd with Env nil inherits from this process:
// os.Environ() with ChildEnvCaller, else nothing (the server's own).
func (c *Client) inheritedEnv() []string {
	if c.childEnv == ChildEnvCaller {
		return os.Environ()
	}
	return nil
}
