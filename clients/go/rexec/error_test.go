package rexec_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rexec/rexec/clients/go/rexec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestStartErrorsReadAsLocalOnes(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		path     string
		env      []string
		dir      string
		code     codes.Code
		is       []error
		isNot    []error
		contains string
	}{
		{name: "not in PATH", path: "rexec-no-such-program",
			code: codes.NotFound, is: []error{exec.ErrNotFound}, isNot: []error{fs.ErrNotExist},
			contains: "executable file not found in $PATH"},
		{name: "in PATH but not executable", path: "plain", env: []string{"PATH=" + dir},
			code: codes.PermissionDenied, is: []error{exec.ErrNotFound}, isNot: []error{fs.ErrPermission},
			contains: "executable file not found in $PATH"},
		{name: "no such file", path: filepath.Join(dir, "missing"),
			code: codes.NotFound, is: []error{fs.ErrNotExist, syscall.ENOENT}, isNot: []error{exec.ErrNotFound}},
		{name: "a file not executable", path: notExecutable,
			code: codes.PermissionDenied, is: []error{fs.ErrPermission}, isNot: []error{exec.ErrNotFound}},
		{name: "no such Dir", path: "true", dir: filepath.Join(dir, "missing"),
			code: codes.NotFound, is: []error{fs.ErrNotExist}, isNot: []error{exec.ErrNotFound},
			contains: "cwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := client.CommandContext(testContext(t), tc.path)
			cmd.Env, cmd.Dir = tc.env, tc.dir
			err := cmd.Run()
			var callErr *rexec.Error
			if !errors.As(err, &callErr) {
				t.Fatalf("Run: %v (%T), want an *rexec.Error", err, err)
			}
			if status.Code(err) != tc.code || callErr.GRPCStatus().Code() != tc.code {
				t.Errorf("status.Code(%v) = %v, want %v", err, status.Code(err), tc.code)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) is false", err, target)
				}
			}
			for _, target := range tc.isNot {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) is true", err, target)
				}
			}
			// exec.Error's shape: the name, then why.
			prefix := fmt.Sprintf("exec: %q: ", tc.path)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("message %q, want %q then %q", err, prefix, tc.contains)
			}
			// A search of PATH that found nothing is exec.LookPath's error,
			// to the message; anything else has the server's reason.
			notFound := errors.Is(err, exec.ErrNotFound)
			if callErr.Name != tc.path || (callErr.Err == exec.ErrNotFound) != notFound ||
				notFound != (err.Error() == prefix+"executable file not found in $PATH") {
				t.Errorf("Name %q, Err %v", callErr.Name, callErr.Err)
			}
			if cmd.Process != nil {
				t.Errorf("Process %v after a failed start", cmd.Process)
			}
		})
	}
}

func TestAnArgumentTheServerRefusesIsInvalidArgument(t *testing.T) {
	err := client.CommandContext(testContext(t), "echo", "a\x00b").Run()
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("NUL in an argument: %v, want InvalidArgument", err)
	}
}

func TestAServerThatCannotBeReachedIsUnavailable(t *testing.T) {
	unreachable, err := rexec.Dial("unix:" + filepath.Join(t.TempDir(), "nobody-listens"))
	if err != nil {
		t.Fatal(err)
	}
	defer unreachable.Close()
	err = unreachable.CommandContext(testContext(t), "true").Run()
	var callErr *rexec.Error
	if !errors.As(err, &callErr) || status.Code(err) != codes.Unavailable {
		t.Errorf("Run: %v (%T), want an *Error with Unavailable", err, err)
	}
}

func TestMisuseFailsAsWithOsExec(t *testing.T) {
	ctx := testContext(t)
	// Each step runs on a local exec.Cmd and a remote rexec.Cmd alike, and
	// must fail (or not) with the same message.
	type step func(local *exec.Cmd, remote *rexec.Cmd) (error, error)
	steps := []struct {
		name string
		step step
	}{
		{"Wait before Start", func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Wait(), r.Wait() }},
		{"Start", func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Start(), r.Start() }},
		{"Start again", func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Start(), r.Start() }},
		{"StdinPipe after Start", func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
			_, le := l.StdinPipe()
			_, re := r.StdinPipe()
			return le, re
		}},
		{"StdoutPipe after Start", func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
			_, le := l.StdoutPipe()
			_, re := r.StdoutPipe()
			return le, re
		}},
		{"StderrPipe after Start", func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
			_, le := l.StderrPipe()
			_, re := r.StderrPipe()
			return le, re
		}},
		{"Wait", func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Wait(), r.Wait() }},
		{"Wait again", func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Wait(), r.Wait() }},
		{"Output with Stdout", func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
			_, le := l.Output()
			_, re := r.Output()
			return le, re
		}},
	}
	local, remote := exec.CommandContext(ctx, "true"), client.CommandContext(ctx, "true")
	for _, s := range steps {
		le, re := s.step(local, remote)
		if errorText(le) != errorText(re) {
			t.Errorf("%s: os/exec says %q, rexec %q", s.name, errorText(le), errorText(re))
		}
	}

	for _, setup := range []struct {
		name string
		set  func(l *exec.Cmd, r *rexec.Cmd)
		run  func(l *exec.Cmd, r *rexec.Cmd) (error, error)
	}{
		{"CombinedOutput with Stderr",
			func(l *exec.Cmd, r *rexec.Cmd) { l.Stderr, r.Stderr = os.Stderr, os.Stderr },
			func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
				_, le := l.CombinedOutput()
				_, re := r.CombinedOutput()
				return le, re
			}},
		{"StdinPipe with Stdin",
			func(l *exec.Cmd, r *rexec.Cmd) { l.Stdin, r.Stdin = os.Stdin, os.Stdin },
			func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
				_, le := l.StdinPipe()
				_, re := r.StdinPipe()
				return le, re
			}},
		{"StdoutPipe with Stdout",
			func(l *exec.Cmd, r *rexec.Cmd) { l.Stdout, r.Stdout = os.Stdout, os.Stdout },
			func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
				_, le := l.StdoutPipe()
				_, re := r.StdoutPipe()
				return le, re
			}},
		{"StderrPipe with Stderr",
			func(l *exec.Cmd, r *rexec.Cmd) { l.Stderr, r.Stderr = os.Stderr, os.Stderr },
			func(l *exec.Cmd, r *rexec.Cmd) (error, error) {
				_, le := l.StderrPipe()
				_, re := r.StderrPipe()
				return le, re
			}},
		{"no command",
			func(l *exec.Cmd, r *rexec.Cmd) { l.Path, r.Path = "", "" },
			func(l *exec.Cmd, r *rexec.Cmd) (error, error) { return l.Run(), r.Run() }},
	} {
		local, remote := exec.CommandContext(ctx, "true"), client.CommandContext(ctx, "true")
		setup.set(local, remote)
		le, re := setup.run(local, remote)
		if le == nil || errorText(le) != errorText(re) {
			t.Errorf("%s: os/exec says %q, rexec %q", setup.name, errorText(le), errorText(re))
		}
	}
}

func errorText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
