package rexec_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rexec/rexec/clients/go/rexec"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const goodToken = "go-client-test-token"

// makeCerts makes the TLS test certificates of the C++ suite (server.pem
// for localhost and 127.0.0.1, ca.pem, client-uri.pem...) and a token
// file that accepts goodToken as "go-test".
func makeCerts(t *testing.T) (dir, tokenFile string) {
	t.Helper()
	dir = t.TempDir()
	out, err := exec.Command("bash", "../../../tests/e2e/tls/make_certs.sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("make_certs.sh: %v\n%s", err, out)
	}
	tokenFile = filepath.Join(dir, "tokens")
	line := fmt.Sprintf("go-test %x\n", sha256.Sum256([]byte(goodToken)))
	if err := os.WriteFile(tokenFile, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, tokenFile
}

func writeToken(t *testing.T, token string) string {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\nthe rest is ignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// echo runs echo through c and says what went wrong, if anything.
func echo(t *testing.T, c *rexec.Client) error {
	out, err := c.CommandContext(testContext(t), "echo", "ok").Output()
	if err == nil && string(out) != "ok\n" {
		return fmt.Errorf("echo said %q", out)
	}
	return err
}

func dial(t *testing.T, target string, opts ...rexec.Option) *rexec.Client {
	t.Helper()
	c, err := rexec.Dial(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSWithAToken(t *testing.T) {
	dir, tokens := makeCerts(t)
	s := startServer(t, "--tls-cert", filepath.Join(dir, "server.pem"),
		"--tls-key", filepath.Join(dir, "server.key"), "--token-file", tokens)
	ca := rexec.WithTLSCA(filepath.Join(dir, "ca.pem"))

	if err := echo(t, dial(t, s.addr, ca, rexec.WithToken(goodToken))); err != nil {
		t.Errorf("the right token: %v", err)
	}
	if err := echo(t, dial(t, s.addr, ca, rexec.WithTokenFile(writeToken(t, goodToken)))); err != nil {
		t.Errorf("the right token from a file: %v", err)
	}
	for name, opts := range map[string][]rexec.Option{
		"a wrong token": {ca, rexec.WithToken("wrong")},
		"no token":      {ca},
	} {
		err := echo(t, dial(t, s.addr, opts...))
		var callErr *rexec.Error
		if !errors.As(err, &callErr) || status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: %v, want an *Error with Unauthenticated", name, err)
		}
	}
	// By a name the certificate holds, other than the target's host.
	if err := echo(t, dial(t, s.addr, ca, rexec.WithTLSServerName("localhost"), rexec.WithToken(goodToken))); err != nil {
		t.Errorf("WithTLSServerName(localhost): %v", err)
	}
	if err := echo(t, dial(t, s.addr, ca, rexec.WithTLSServerName("elsewhere.example"), rexec.WithToken(goodToken))); status.Code(err) != codes.Unavailable {
		t.Errorf("a name the certificate lacks: %v, want Unavailable", err)
	}
	if err := echo(t, dial(t, s.addr, rexec.WithTLSCA(filepath.Join(dir, "other-ca.pem")), rexec.WithToken(goodToken))); status.Code(err) != codes.Unavailable {
		t.Errorf("another CA: %v, want Unavailable", err)
	}
	// What the rexec CLI reads, DialEnv reads.
	t.Setenv("REXEC_SERVER", s.addr)
	t.Setenv("REXEC_TLS_CA", filepath.Join(dir, "ca.pem"))
	t.Setenv("REXEC_TOKEN_FILE", writeToken(t, goodToken))
	fromEnv, err := rexec.DialEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer fromEnv.Close()
	if err := echo(t, fromEnv); err != nil {
		t.Errorf("DialEnv: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	dir, _ := makeCerts(t)
	s := startServer(t, "--tls-cert", filepath.Join(dir, "server.pem"),
		"--tls-key", filepath.Join(dir, "server.key"), "--tls-client-ca", filepath.Join(dir, "ca.pem"))
	ca := rexec.WithTLSCA(filepath.Join(dir, "ca.pem"))
	cert := rexec.WithTLSCert(filepath.Join(dir, "client-uri.pem"), filepath.Join(dir, "client-uri.key"))

	if err := echo(t, dial(t, s.addr, ca, cert)); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
	if err := echo(t, dial(t, s.addr, ca)); status.Code(err) != codes.Unavailable {
		t.Errorf("without a client certificate: %v, want Unavailable", err)
	}
	other := rexec.WithTLSCert(filepath.Join(dir, "client-other.pem"), filepath.Join(dir, "client-other.key"))
	if err := echo(t, dial(t, s.addr, ca, other)); status.Code(err) != codes.Unavailable {
		t.Errorf("a client certificate of another CA: %v, want Unavailable", err)
	}

	// A tls.Config of the caller's own.
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "client-uri.pem"), filepath.Join(dir, "client-uri.key"))
	if err != nil {
		t.Fatal(err)
	}
	config := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}
	if err := echo(t, dial(t, s.addr, rexec.WithTLSConfig(config))); err != nil {
		t.Errorf("WithTLSConfig: %v", err)
	}
}

func TestATokenTravelsInPlaintextOnlyToThisMachine(t *testing.T) {
	_, tokens := makeCerts(t)
	s := startServer(t, "--token-file", tokens)
	if err := echo(t, dial(t, s.addr, rexec.WithToken(goodToken))); err != nil {
		t.Errorf("a token to loopback: %v", err)
	}
	if err := echo(t, dial(t, s.addr, rexec.WithToken("wrong"))); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a wrong token to loopback: %v, want Unauthenticated", err)
	}
	for _, target := range []string{"10.0.0.7:50051", "example.com:50051", "dns:///example.com:50051", "127.0.0.1%2f:1"} {
		if _, err := rexec.Dial(target, rexec.WithToken(goodToken)); err == nil || !strings.Contains(err.Error(), "plaintext") {
			t.Errorf("Dial(%q) with a token and no TLS: %v", target, err)
		}
	}
}

func TestAUnixSocketTakesAToken(t *testing.T) {
	_, tokens := makeCerts(t)
	socket := filepath.Join(t.TempDir(), "rexecd.sock")
	startServer(t, "--listen", "unix:"+socket, "--token-file", tokens)
	for _, target := range []string{"unix:" + socket, "unix://" + socket} {
		if err := echo(t, dial(t, target, rexec.WithToken(goodToken))); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
}

func TestBadCredentialFilesFailDial(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	for name, opts := range map[string][]rexec.Option{
		"CA":                     {rexec.WithTLSCA(missing)},
		"certificate":            {rexec.WithTLSCert(missing, missing)},
		"a cert without its key": {rexec.WithTLSCert(missing, "")},
		"token file":             {rexec.WithTokenFile(missing)},
		"empty token":            {rexec.WithTokenFile(writeToken(t, ""))},
	} {
		if c, err := rexec.Dial(server.addr, opts...); err == nil {
			c.Close()
			t.Errorf("%s: Dial succeeded", name)
		}
	}
}
