package rexec

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a call that failed, as opposed to a child that exited unhappily
// (that is an *ExitError): the server refused the start (the program not
// found, not allowed, a bad argument), the credentials were refused, the
// connection was lost. It carries the gRPC status, which status.Code and
// status.Convert read through GRPCStatus (grpc-go 1.33's status.FromError
// does not unwrap, so it must be this value, not one wrapping it).
//
// What Unwrap returns makes errors.Is answer as for a local start: a
// search of PATH that found nothing to run is exec.ErrNotFound, as
// exec.LookPath's; otherwise the errno the server named ("... (ENOENT)")
// makes fs.ErrNotExist or fs.ErrPermission hold.
// Immutable; safe for concurrent use.
type Error struct {
	status *status.Status
	// exec.ErrNotFound, the syscall.Errno the message ends with, the
	// context's error of a call given up, or nil.
	cause error
}

func newCallError(err error) *Error {
	st := status.Convert(err)
	e := &Error{status: st}
	message := st.Message()
	if (st.Code() == codes.NotFound && strings.HasSuffix(message, ": not found in PATH (ENOENT)")) ||
		(st.Code() == codes.PermissionDenied && strings.HasSuffix(message, " is not executable (EACCES)")) {
		e.cause = exec.ErrNotFound
	} else if errno, ok := errnoAtEnd(message); ok {
		e.cause = errno
	}
	return e
}

// abandonedCallError is Wait's error when ctx ended the command and no exit
// came within WaitDelay of the kill.
func abandonedCallError(ctxErr error, delay time.Duration) *Error {
	code := codes.Canceled
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		code = codes.DeadlineExceeded
	}
	return &Error{
		status: status.New(code, fmt.Sprintf(
			"%v, and no exit came within %v of the kill: the call was given up (rexecd stops the child of a cancelled call)",
			ctxErr, delay)),
		cause: ctxErr,
	}
}

func (e *Error) Error() string {
	return fmt.Sprintf("rexec: %v: %s", e.status.Code(), e.status.Message())
}

// GRPCStatus is the call's status, for status.Code and status.Convert.
func (e *Error) GRPCStatus() *status.Status { return e.status }

// Unwrap is exec.ErrNotFound, the errno the server named, or the
// context's error.
func (e *Error) Unwrap() error { return e.cause }

// The errnos rexecd names at the end of a start's error that mean
// something to errors.Is (fs.ErrNotExist, fs.ErrPermission...) or to a
// caller who checks for one.
var errnosByName = map[string]syscall.Errno{
	"ENOENT":       syscall.ENOENT,
	"ENOTDIR":      syscall.ENOTDIR,
	"EACCES":       syscall.EACCES,
	"EPERM":        syscall.EPERM,
	"EEXIST":       syscall.EEXIST,
	"EISDIR":       syscall.EISDIR,
	"ELOOP":        syscall.ELOOP,
	"ENAMETOOLONG": syscall.ENAMETOOLONG,
	"ENOEXEC":      syscall.ENOEXEC,
	"ETXTBSY":      syscall.ETXTBSY,
	"E2BIG":        syscall.E2BIG,
	"EAGAIN":       syscall.EAGAIN,
	"EMFILE":       syscall.EMFILE,
	"ENFILE":       syscall.ENFILE,
	"ENOMEM":       syscall.ENOMEM,
	"EINVAL":       syscall.EINVAL,
}

// errnoAtEnd reads "... (ENOENT)", how rexecd ends the message of every
// failed system call.
func errnoAtEnd(message string) (syscall.Errno, bool) {
	if !strings.HasSuffix(message, ")") {
		return 0, false
	}
	open := strings.LastIndex(message, " (")
	if open < 0 {
		return 0, false
	}
	errno, ok := errnosByName[message[open+2:len(message)-1]]
	return errno, ok
}
