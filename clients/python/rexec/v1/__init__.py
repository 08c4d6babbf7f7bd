"""Generated gRPC stubs of the rexec.v1 API (protos/rexec/v1/child_process.proto).

child_process_pb2 and child_process_pb2_grpc are protoc's output, committed;
regenerate them with ../../generate.sh, never by hand.
"""
