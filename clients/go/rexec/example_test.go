package rexec_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rexec/rexec/clients/go/rexec"
)

// The READMEs' Go example is this function's body: TestReadmeExampleIsExampleCommand
// holds them together.
func ExampleCommand() {
	// Runs on the server that $REXEC_SERVER names, as os/exec would run it here.
	cmd := rexec.Command("tr", "a-z", "A-Z")
	cmd.Stdin = strings.NewReader("hello from afar\n")
	out, err := cmd.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = rexec.CommandContext(ctx, "sh", "-c", "echo oops >&2; exit 3").Run()
	var exitErr *rexec.ExitError
	if errors.As(err, &exitErr) {
		fmt.Println("exit code", exitErr.ExitCode())
	}
	// Output:
	// HELLO FROM AFAR
	// exit code 3
}

func TestReadmeExampleIsExampleCommand(t *testing.T) {
	source, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(source)
	body = body[strings.Index(body, "func ExampleCommand() {\n")+len("func ExampleCommand() {\n"):]
	body = body[:strings.Index(body, "\t// Output:")]
	// This package's README, and the repository's.
	for _, name := range []string{"../README.md", "../../../README.md"} {
		readme, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), body) {
			t.Errorf("%s does not hold ExampleCommand's body:\n%s", name, body)
		}
	}
}
