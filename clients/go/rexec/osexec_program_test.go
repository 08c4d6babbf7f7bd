package rexec_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A program written for os/exec (testdata/osexec_program) must build and
// behave the same with only its import changed: it is built as it is and
// with `exec "github.com/rexec/rexec/clients/go/rexec"` in place of
// "os/exec", both run (the second on the suite's server, through
// REXEC_SERVER), and they must print the same. The build has -race, as the
// suite's test binary, so that it finds this package and gRPC compiled.
func TestAProgramForOsExecRunsWithOnlyItsImportChanged(t *testing.T) {
	const program = "testdata/osexec_program"
	source, err := filepath.Abs(filepath.Join(program, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(source)
	if err != nil {
		t.Fatal(err)
	}
	const localImport = "\t\"os/exec\"\n"
	if strings.Count(string(text), localImport) != 1 {
		t.Fatalf("%s imports os/exec other than as %q", source, localImport)
	}
	remoteText := strings.Replace(string(text), localImport,
		"\texec \"github.com/rexec/rexec/clients/go/rexec\"\n", 1)

	tmp := t.TempDir()
	remoteSource := filepath.Join(tmp, "main.go")
	overlay := filepath.Join(tmp, "overlay.json")
	replace, _ := json.Marshal(map[string]map[string]string{"Replace": {source: remoteSource}})
	for file, data := range map[string]string{remoteSource: remoteText, overlay: string(replace)} {
		if err := os.WriteFile(file, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	outputs := map[string]string{}
	for name, flags := range map[string][]string{
		"os/exec": nil,
		"rexec":   {"-overlay", overlay},
	} {
		binary := filepath.Join(tmp, strings.ReplaceAll(name, "/", "-"))
		args := append([]string{"build", "-race", "-o", binary}, flags...)
		build := exec.Command("go", append(args, "./"+program)...)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build with %s: %v\n%s", name, err, out)
		}
		run := exec.CommandContext(testContext(t), binary, dir)
		out, err := run.CombinedOutput()
		if err != nil {
			t.Errorf("the program with %s: %v\n%s", name, err, out)
		}
		outputs[name] = string(out)
	}
	// Its children did run on the server.
	if !strings.Contains(server.logText(), `argv=["rexec-no-such-program" "-v"]`) {
		t.Error("the server saw no call of the program's")
	}
	if outputs["os/exec"] != outputs["rexec"] {
		t.Errorf("with os/exec the program printed:\n%s\nwith rexec:\n%s", outputs["os/exec"], outputs["rexec"])
	} else {
		t.Logf("both printed:\n%s", outputs["rexec"])
	}
}
