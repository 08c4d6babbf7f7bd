// For building in module mode elsewhere: these are the versions the tests
// ran with (Debian 12's golang-google-grpc-dev, golang-google-protobuf-dev
// and golang-github-golang-protobuf-1-5-dev). `go mod tidy` writes go.sum
// and the rest of the indirect requirements. The suite builds in GOPATH mode
// from Debian's packages offline (run-tests.sh), which ignores this file.
module github.com/rexec/rexec/clients/go

go 1.19

require (
	github.com/golang/protobuf v1.5.2 // indirect
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
