package rexec_test

import (
	"strings"
	"testing"

	"github.com/rexec/rexec/clients/go/rexec"
)

// What a Cmd with Env nil gets is one switch: the server's environment by
// default, this process's with ChildEnvCaller (REXEC_CHILD_ENV=caller).
func TestEnvNilIsTheServersOrOursByOneSwitch(t *testing.T) {
	// The suite's rexecd started before this variable was set here.
	t.Setenv("REXEC_TEST_CALLERS_OWN", "ours")
	for _, tc := range []struct {
		choice string
		want   string
	}{{rexec.ChildEnvServer, "unset\n"}, {rexec.ChildEnvCaller, "ours\n"}} {
		c, err := rexec.Dial(server.addr, rexec.WithChildEnv(tc.choice))
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.Command("sh", "-c", `echo "${REXEC_TEST_CALLERS_OWN:-unset}"`).Output()
		if err != nil || string(out) != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.choice, out, err, tc.want)
		}
		// Environ is what the child gets when Start can know it.
		cmd := c.Command("env")
		hasOurs := false
		for _, entry := range cmd.Environ() {
			hasOurs = hasOurs || entry == "REXEC_TEST_CALLERS_OWN=ours"
		}
		if hasOurs != (tc.choice == rexec.ChildEnvCaller) {
			t.Errorf("%s: Environ() has our variable: %v", tc.choice, hasOurs)
		}
		// Env set is the whole environment either way.
		cmd.Env = []string{"ONLY=1"}
		if out, err := cmd.Output(); err != nil || string(out) != "ONLY=1\n" {
			t.Errorf("%s with Env: %q, %v", tc.choice, out, err)
		}
		c.Close()
	}
	if _, err := rexec.Dial(server.addr, rexec.WithChildEnv("local")); err == nil ||
		!strings.Contains(err.Error(), `"local"`) {
		t.Errorf("WithChildEnv(\"local\"): %v", err)
	}
}

func TestDialEnvReadsTheSwitch(t *testing.T) {
	t.Setenv("REXEC_SERVER", server.addr)
	t.Setenv("REXEC_CHILD_ENV", "ours")
	if _, err := rexec.DialEnv(); err == nil || !strings.Contains(err.Error(), `REXEC_CHILD_ENV="ours"`) {
		t.Errorf("DialEnv with REXEC_CHILD_ENV=ours: %v", err)
	}
	t.Setenv("REXEC_CHILD_ENV", "caller")
	t.Setenv("REXEC_TEST_CALLERS_OWN", "ours")
	c, err := rexec.DialEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, err := c.Command("printenv", "REXEC_TEST_CALLERS_OWN").Output(); err != nil || string(out) != "ours\n" {
		t.Errorf("printenv: %q, %v", out, err)
	}
}
