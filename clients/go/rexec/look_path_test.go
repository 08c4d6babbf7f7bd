package rexec_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rexec/rexec/clients/go/rexec"
)

// LookPath answers on the server what exec.LookPath answers here: the
// suite's rexecd runs on this machine, in this directory, with this PATH.
func TestLookPathAnswersAsExecLookPath(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"tool": 0o755, "data": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"sh", "env", "rexec-no-such-program", "/bin/sh",
		filepath.Join(dir, "tool"), filepath.Join(dir, "data"), dir, filepath.Join(dir, "nosuch")} {
		local, lerr := exec.LookPath(file)
		remote, rerr := client.LookPath(file)
		if remote != local || errorText(rerr) != errorText(lerr) {
			t.Errorf("LookPath(%q): rexec %q, %v; os/exec %q, %v", file, remote, rerr, local, lerr)
		}
		for _, target := range []error{exec.ErrNotFound, fs.ErrPermission, fs.ErrNotExist, syscall.EISDIR} {
			if errors.Is(rerr, target) != errors.Is(lerr, target) {
				t.Errorf("LookPath(%q): errors.Is(%v): rexec %v, os/exec %v", file, target,
					errors.Is(rerr, target), errors.Is(lerr, target))
			}
		}
		var rexecErr *rexec.Error
		if (rerr != nil) != errors.As(rerr, &rexecErr) || (rerr != nil && rexecErr.Name != file) {
			t.Errorf("LookPath(%q): %#v is not an *Error naming the file", file, rerr)
		}
	}
}

// A PATH entry that is relative finds a file relative to the working
// directory, which both name as ErrDot (Go 1.19).
func TestLookPathFoundThroughARelativeEntryIsErrDot(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rexec-relative-tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The directory as the kernel walks "..", not through the symlinks of
	// the GOPATH the tests run in.
	cwd, err := os.Getwd()
	if err == nil {
		cwd, err = filepath.EvalSymlinks(cwd)
	}
	if err != nil {
		t.Fatal(err)
	}
	relative, err := filepath.Rel(cwd, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", relative)
	c, err := rexec.Dial(server.addr, rexec.WithChildEnv(rexec.ChildEnvCaller))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local, lerr := exec.LookPath("rexec-relative-tool")
	remote, rerr := c.LookPath("rexec-relative-tool")
	if remote != local || !errors.Is(rerr, exec.ErrDot) || errorText(rerr) != errorText(lerr) {
		t.Errorf("rexec %q, %v; os/exec %q, %v", remote, rerr, local, lerr)
	}
}

// Under the caller's environment the caller's PATH is searched.
func TestLookPathSearchesThePathTheChildWouldHave(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rexec-own-tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := client.LookPath("rexec-own-tool"); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("the server's PATH: %v, want ErrNotFound", err)
	}
	c, err := rexec.Dial(server.addr, rexec.WithChildEnv(rexec.ChildEnvCaller))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if found, err := c.LookPath("rexec-own-tool"); err != nil || found != filepath.Join(dir, "rexec-own-tool") {
		t.Errorf("the caller's PATH: %q, %v", found, err)
	}
}
