package rexec

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrNotFound is exec.ErrNotFound, the error of a program that a search of
// PATH did not find, and ErrDot exec.ErrDot: the same values, so that
// errors.Is answers alike for either package's.
var (
	ErrNotFound = exec.ErrNotFound
	ErrDot      = exec.ErrDot
)

// Error is exec.Error for a command that did not run on the server, or
// whose call failed (a child that ran and exited unhappily is an
// *ExitError): the server refused the start (the program not found, not
// allowed, a bad argument), the credentials were refused, the connection
// was lost. It carries the call's gRPC status, which status.Code and
// status.Convert read through GRPCStatus (grpc-go 1.33's status.FromError
// does not unwrap, so it must be this value, not one wrapping it).
// Immutable once returned; safe for concurrent use.
type Error struct {
	// Name is the program the command was to run.
	Name string
	// Err is why. For a program the server found nowhere in PATH it is
	// ErrNotFound, as exec.LookPath's Err is, and Error says what
	// os/exec's says. Otherwise it is the call's failure, which unwraps to
	// the errno the server named ("... (ENOENT)"), so that errors.Is holds
	// for fs.ErrNotExist or fs.ErrPermission as for a local start, or to
	// the context's error of a call given up.
	Err error

	status *status.Status
}

func newCallError(name string, err error) *Error {
	st := status.Convert(err)
	e := &Error{Name: name, status: st}
	message := st.Message()
	if (st.Code() == codes.NotFound && strings.HasSuffix(message, ": not found in PATH (ENOENT)")) ||
		(st.Code() == codes.PermissionDenied && strings.HasSuffix(message, " is not executable (EACCES)")) {
		e.Err = ErrNotFound
	} else {
		failure := &callFailure{status: st}
		if errno, ok := errnoAtEnd(message); ok {
			failure.cause = errno
		}
		e.Err = failure
	}
	return e
}

// abandonedCallError is Wait's error when the exit did not come within
// delay of a kill, and the call was given up; ctxErr is the context's
// error when the context was done.
func abandonedCallError(name string, ctxErr error, delay time.Duration) *Error {
	code := codes.DeadlineExceeded
	text := fmt.Sprintf("no exit came within %v of the kill", delay)
	if ctxErr != nil {
		text = ctxErr.Error() + ", and " + text
		if errors.Is(ctxErr, context.Canceled) {
			code = codes.Canceled
		}
	}
	st := status.New(code, text+": the call was given up (rexecd stops the child of a cancelled call)")
	return &Error{Name: name, Err: &callFailure{status: st, cause: ctxErr}, status: st}
}

func (e *Error) Error() string { return "exec: " + strconv.Quote(e.Name) + ": " + e.Err.Error() }

// Unwrap is Err.
func (e *Error) Unwrap() error { return e.Err }

// GRPCStatus is the call's status, for status.Code and status.Convert;
// Unknown for an Error that no call made (the client could not be made,
// or a literal): grpc-go reads a nil status as OK.
func (e *Error) GRPCStatus() *status.Status {
	if e.status == nil {
		return status.New(codes.Unknown, e.Error())
	}
	return e.status
}

// callFailure is the Err of an Error other than ErrNotFound: the call's
// status, and the errno or context error behind it. Immutable.
type callFailure struct {
	status *status.Status
	cause  error
}

func (f *callFailure) Error() string {
	return fmt.Sprintf("rexec: %v: %s", f.status.Code(), f.status.Message())
}

func (f *callFailure) Unwrap() error { return f.cause }

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
