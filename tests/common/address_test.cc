// What counts as loopback, for where a bearer token may be sent in
// plaintext and where rexecd may serve without TLS; and the port an address
// given without one gets.
#include "common/address.h"

#include <utility>

#include "gtest/gtest.h"

namespace rexec {
namespace {

TEST(AddressTest, LoopbackAddresses) {
  for (const char* address :
       {"127.0.0.1:50051", "127.3.4.5:1", "[::1]:50051", "localhost:50051",
        "dns:///localhost:50051", "dns:localhost:1", "ipv4:127.0.0.1:1",
        "ipv6:[::1]:1", "ipv4:127.0.0.1:1,127.0.0.2:2",
        "ipv6:[::1]:1,[::ffff:127.0.0.1]:2"}) {
    EXPECT_TRUE(IsLoopbackAddress(address)) << address;
  }
}

TEST(AddressTest, EveryEntryOfAListMustBeLoopback) {
  // gRPC connects to any entry of the list: a token sent "to loopback"
  // could go to the second one, in plaintext.
  for (const char* address :
       {"ipv6:[::1]:1,[2001:db8::1]:50051", "ipv4:127.0.0.1:1,10.0.0.1:2",
        "ipv6:[::1]:1,[::ffff:10.0.0.1]:2", "ipv4:localhost:1",
        "10.0.0.1:50051", "[2001:db8::1]:1", "example.com:1",
        "dns://8.8.8.8/localhost:1", "ipv6:%5B::1%5D:1", "localhost%2Cx:1", "",
        "ipv4:"}) {
    EXPECT_FALSE(IsLoopbackAddress(address)) << address;
  }
}

TEST(Address, UnixSocketPath) {
  EXPECT_EQ(UnixSocketPath("unix:/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(UnixSocketPath("unix:///run/x.sock"), "/run/x.sock");
  EXPECT_EQ(UnixSocketPath("unix:x.sock"), "x.sock");
}

TEST(Address, WithDefaultPortAddsOnlyAMissingPort) {
  const std::pair<const char*, const char*> cases[] = {
      {"build-box", "build-box:50051"},
      {"10.0.0.7", "10.0.0.7:50051"},
      {"::1", "[::1]:50051"},
      {"[::1]", "[::1]:50051"},
      {"dns:///rexecd.ns.svc", "dns:///rexecd.ns.svc:50051"},
      {"dns:host", "dns:host:50051"},
      {"build-box:443", "build-box:443"},
      {"[::1]:7", "[::1]:7"},
      {"dns:///rexecd:7", "dns:///rexecd:7"},
      {"unix:/run/rexec/rexecd.sock", "unix:/run/rexec/rexecd.sock"},
      {"unix-abstract:rexec", "unix-abstract:rexec"},
      {"ipv4:127.0.0.1:1,127.0.0.2:2", "ipv4:127.0.0.1:1,127.0.0.2:2"},
      {"dns://8.8.8.8/host", "dns://8.8.8.8/host"},
      {"", ""},
  };
  for (const auto& [address, expected] : cases) {
    EXPECT_EQ(WithDefaultPort(address, 50051), expected) << address;
  }
}

}  // namespace
}  // namespace rexec
