package rexec_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
)

// What only a local child can have: a program that names it builds, and
// Start says what it refuses.

func TestExtraFilesAndSysProcAttrAreRefusedByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*rexec.Cmd)
		want string
	}{
		{"ExtraFiles", func(c *rexec.Cmd) { c.ExtraFiles = []*os.File{os.Stdin} },
			"rexec: ExtraFiles: a remote child cannot inherit this machine's files"},
		{"SysProcAttr", func(c *rexec.Cmd) {
			c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setpgid: true,
				Credential: &syscall.Credential{Uid: 1}}
		}, "rexec: SysProcAttr.Credential: a remote child takes no process attribute " +
			"of this machine's (but Setsid, and Setpgid, which it has anyway)"},
		{"a Pgid to join", func(c *rexec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: 1} },
			"rexec: SysProcAttr.Pgid: a remote child takes no process attribute of this machine's " +
				"(but Setsid, and Setpgid, which it has anyway)"},
	} {
		cmd := client.Command("true")
		tc.set(cmd)
		if err := cmd.Run(); errorText(err) != tc.want || cmd.Process != nil {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}

// Setpgid is what every remote child has: it leads its own process group,
// as a local child with Setpgid does.
func TestSetpgidIsTakenAndHolds(t *testing.T) {
	const script = `set -- $(cat /proc/$$/stat); [ "$5" = $$ ] && echo leader`
	local := exec.Command("sh", "-c", script)
	local.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	remote := client.Command("sh", "-c", script)
	remote.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	lo, lerr := local.Output()
	ro, rerr := remote.Output()
	if string(lo) != "leader\n" || string(ro) != string(lo) || lerr != nil || rerr != nil {
		t.Errorf("os/exec: %q, %v; rexec: %q, %v", lo, lerr, ro, rerr)
	}
}

// Setsid makes the child lead a new session there as here.
func TestSetsidIsTakenAndHolds(t *testing.T) {
	const script = `set -- $(cat /proc/$$/stat); [ "$6" = $$ ] && echo session leader`
	local := exec.Command("sh", "-c", script)
	local.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	remote := client.Command("sh", "-c", script)
	remote.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	lo, lerr := local.Output()
	ro, rerr := remote.Output()
	if string(lo) != "session leader\n" || string(ro) != string(lo) || lerr != nil || rerr != nil {
		t.Errorf("os/exec: %q, %v; rexec: %q, %v", lo, lerr, ro, rerr)
	}
}

func TestErrIsStartsError(t *testing.T) {
	cmd := client.Command("echo", "a", "b")
	cmd.Path = "/not/what/runs"
	cmd.Err = errors.New("set by the caller")
	if err := cmd.Start(); err != cmd.Err || cmd.Process != nil {
		t.Errorf("Start: %v, process %v", err, cmd.Process)
	}
	if got := cmd.String(); got != "echo a b" {
		t.Errorf("String() = %q, want the Args", got)
	}
}

// Command does not look the program up: the server does, at Start.
func TestCommandLeavesPathAndErrAlone(t *testing.T) {
	for _, name := range []string{"sh", "rexec-no-such-program"} {
		cmd := rexec.Command(name, "-c", "true")
		if cmd.Path != name || cmd.Err != nil || cmd.String() != name+" -c true" {
			t.Errorf("Command(%q): Path %q, Err %v, String %q", name, cmd.Path, cmd.Err, cmd.String())
		}
	}
}

// Environ is what Start sends: the server's environment, which a child with
// Env nil gets, is not known here, and this process's is not the child's.
func TestEnvironIsWhatStartSends(t *testing.T) {
	dir := t.TempDir()
	cmd := client.Command("env")
	if env := cmd.Environ(); env != nil {
		t.Errorf("Env nil, no Dir: %q", env)
	}
	cmd.Dir = dir
	if env := cmd.Environ(); len(env) != 1 || env[0] != "PWD="+dir {
		t.Errorf("Env nil, Dir %s: %q", dir, env)
	}
	cmd.Dir = filepath.Base(dir)
	if env := cmd.Environ(); env != nil {
		t.Errorf("Env nil, relative Dir: %q", env)
	}
	cmd.Dir = ""
	cmd.Env = []string{"A=1", "PATH=/usr/bin:/bin"}
	env := cmd.Environ()
	env[0] = "A=changed"
	if cmd.Env[0] != "A=1" || len(env) != 2 {
		t.Errorf("Environ is not a copy of Env: %q, Env %q", env, cmd.Env)
	}
	// os/exec's example, which gives its child this process's environment
	// and one more variable, gives a remote one only these two.
	cmd = client.Command("/usr/bin/env")
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "POSIXLY_CORRECT=1")
	out, err := cmd.Output()
	lines := strings.Fields(string(out))
	sort.Strings(lines)
	if err != nil || strings.Join(lines, " ") != "POSIXLY_CORRECT=1 PWD="+dir {
		t.Errorf("env with Env = append(Environ(), ...): %q, %v", out, err)
	}
}

// A Stdin that is an *os.File is the child's own locally: Wait does not
// wait for its end, remotely either.
func TestAnOSFileStdinIsNotWaitedFor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	local := exec.Command("true")
	local.Stdin = r
	if err := local.Run(); err != nil {
		t.Fatal(err)
	}
	remote := client.Command("true")
	remote.Stdin = r
	if err := remote.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitWithin(t, remote, 20*time.Second); err != nil {
		t.Errorf("Wait: %v, os/exec's was nil", err)
	}
}
