package rexec

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rexec/rexec/clients/go/rexecpb"
)

// LookPath searches for an executable named file on DefaultClient's
// server, as exec.LookPath does on this machine: a name with a slash is
// checked as it is, any other is looked up in the PATH of the environment
// a Cmd with Env nil would get there (see WithChildEnv). The result may be
// relative to the server's working directory; then the error is ErrDot,
// as exec.LookPath's (Go 1.19). A name found nowhere is an *Error whose Err
// is ErrNotFound. Under the server's policy, a file the caller may not
// spawn is refused (an *Error with the server's PermissionDenied).
func LookPath(file string) (string, error) {
	client, err := DefaultClient()
	if err != nil {
		return "", &Error{Name: file, Err: err}
	}
	return client.LookPath(file)
}

// LookPath is the package's LookPath on this client's server.
func (c *Client) LookPath(file string) (string, error) {
	ctx := context.Background()
	conn, err := c.pool.acquire(ctx)
	if err != nil {
		return "", newCallError(file, err)
	}
	defer c.pool.release(conn)
	options := &rexecpb.ProcessOptions{
		ClearEnv:  c.childEnv == ChildEnvCaller,
		CallerEnv: envVars(c.inheritedEnv()),
	}
	response, err := conn.stub.LookPath(ctx, &rexecpb.LookPathRequest{File: file, Options: options})
	if err != nil {
		return "", lookPathError(file, err)
	}
	found := response.GetPath()
	if !strings.Contains(file, "/") && !filepath.IsAbs(found) {
		return found, &Error{Name: file, Err: ErrDot}
	}
	return found, nil
}

// lookPathError is LookPath's error as exec.LookPath makes it: for a name
// with a slash, what checking that file found (its stat's error, or
// fs.ErrPermission for a directory or a file that does not run); for
// another, ErrNotFound; a failure of the call or a refusal as the call's
// *Error.
func lookPathError(file string, err error) error {
	e := newCallError(file, err)
	message := e.status.Message()
	errno, ok := errnoAtEnd(message)
	if !strings.Contains(file, "/") || !ok || !strings.HasPrefix(message, "LookPath ") {
		return e // not the lookup's own answer about the file: a refusal, say
	}
	switch errno {
	case syscall.EACCES, syscall.EISDIR:
		e.Err = fs.ErrPermission
	default:
		e.Err = &fs.PathError{Op: "stat", Path: file, Err: errno}
	}
	return e
}
