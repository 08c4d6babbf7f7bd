package rexec

import (
	"context"
	"os"
	"sync"
)

// DefaultServer is the server of DialEnv when $REXEC_SERVER is unset, as
// for the rexec CLI: rexecd's default --listen, as docker's clients find
// docker's socket.
const DefaultServer = "unix:/run/rexec/rexecd.sock"

var defaultClient struct {
	once   sync.Once
	client *Client
	err    error
}

// DefaultClient is the Client of Command and of a Cmd made without one:
// DialEnv's, made at its first use and kept.
func DefaultClient() (*Client, error) {
	defaultClient.once.Do(func() {
		defaultClient.client, defaultClient.err = DialEnv()
	})
	return defaultClient.client, defaultClient.err
}

// DialEnv dials the server the rexec CLI would, from the same environment:
// REXEC_SERVER (default DefaultServer), REXEC_TLS_CA, REXEC_TLS_CERT,
// REXEC_TLS_KEY, REXEC_TLS_SERVER_NAME and REXEC_TOKEN_FILE (a file whose
// first line is the bearer token); and REXEC_CHILD_ENV (WithChildEnv).
func DialEnv() (*Client, error) {
	target := os.Getenv("REXEC_SERVER")
	if target == "" {
		target = DefaultServer
	}
	var opts []Option
	if ca := os.Getenv("REXEC_TLS_CA"); ca != "" {
		opts = append(opts, WithTLSCA(ca))
	}
	if cert, key := os.Getenv("REXEC_TLS_CERT"), os.Getenv("REXEC_TLS_KEY"); cert != "" || key != "" {
		opts = append(opts, WithTLSCert(cert, key))
	}
	if name := os.Getenv("REXEC_TLS_SERVER_NAME"); name != "" {
		opts = append(opts, WithTLSServerName(name))
	}
	if file := os.Getenv("REXEC_TOKEN_FILE"); file != "" {
		opts = append(opts, WithTokenFile(file))
	}
	if choice := os.Getenv("REXEC_CHILD_ENV"); choice != "" {
		if err := checkChildEnv(choice, "REXEC_CHILD_ENV="); err != nil {
			return nil, err
		}
		opts = append(opts, WithChildEnv(choice))
	}
	return Dial(target, opts...)
}

// Command returns the Cmd to run the named program with the given
// arguments on DefaultClient's server, as exec.Command does locally. name
// is not looked up here: Path is name, and the server looks it up in the
// PATH of the child's environment when the command starts. A DefaultClient
// that cannot be made is the error of Start.
func Command(name string, arg ...string) *Cmd {
	return newCmd(nil, name, arg)
}

// CommandContext is Command with a context, as exec.CommandContext: when
// ctx is done before the command ends, Cancel is called, which kills the
// child unless set otherwise.
func CommandContext(ctx context.Context, name string, arg ...string) *Cmd {
	return withContext(ctx, newCmd(nil, name, arg))
}
