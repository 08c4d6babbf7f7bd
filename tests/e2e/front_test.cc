// rexecd behind HAProxy (--front haproxy): what it is for, a header block
// that never ends (CVE-2023-33953 in gRPC 1.51) reaching nothing of rexecd,
// how the front lives and dies with rexecd, and that it answers the
// clients' keepalive pings. That the front is the same to a client as
// gRPC's own listener is tls_test's (each of its tests runs both ways) and
// security_test's.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/child_io.h"
#include "tests/e2e/rexecd_process.h"
#include "tests/test_paths.h"

namespace rexec::testing {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMiB = 1 << 20;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int PortOf(const std::string& address) {
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port))
      << address;
  return port;
}

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream,
                  const std::string& payload) {
  std::string f;
  const uint32_t n = payload.size();
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) f += static_cast<char>(stream >> shift);
  return f + payload;
}

// A literal header field, not indexed, with a new name (RFC 7541 6.2.2);
// both lengths under 127.
std::string Literal(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name +
         static_cast<char>(value.size()) + value;
}

// The attack: on each of `connections` connections to 127.0.0.1:`port`, a
// HEADERS frame without END_HEADERS, then CONTINUATION frames (also without
// it) for as long as the peer reads them; a connection the peer closes is
// opened again. Returns the bytes sent.
int64_t Flood(int port, int connections, absl::Duration how_long) {
  std::string continuation;
  {
    std::string block;
    for (int i = 0; i < 120; ++i) {
      block += Literal(absl::StrCat("x-flood-", i), std::string(120, 'v'));
    }
    continuation = Frame(9, 0, 1, block);
  }
  const std::string opening =
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + Frame(4, 0, 0, "") +
      Frame(1, 0, 1, Literal(":method", "POST") + Literal(":path", "/x"));
  std::atomic<int64_t> sent{0};
  const absl::Time deadline = absl::Now() + how_long;
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      while (absl::Now() < deadline) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        timeval timeout{0, 200'000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
            send(fd, opening.data(), opening.size(), MSG_NOSIGNAL) > 0) {
          while (absl::Now() < deadline) {
            const ssize_t n = send(fd, continuation.data(),
                                   continuation.size(), MSG_NOSIGNAL);
            if (n <= 0 && errno != EAGAIN && errno != EINTR) break;
            if (n > 0) sent += n;
          }
        }
        close(fd);
        absl::SleepFor(absl::Milliseconds(20));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return sent;
}

// The most the server's RSS grew above `base` while `work` ran.
int64_t PeakGrowth(const RexecdProcess& server,
                   const std::function<void()>& work) {
  const int64_t base = server.RssBytes();
  std::atomic<bool> done{false};
  std::atomic<int64_t> peak{base};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<int64_t>(peak, server.RssBytes());
      absl::SleepFor(absl::Milliseconds(50));
    }
  });
  work();
  done = true;
  sampler.join();
  peak = std::max<int64_t>(peak, server.RssBytes());
  return peak - base;
}

// The flood works: without a front, one second of it grows rexecd past the
// bound the front must keep (else the test below would pass for nothing).
TEST(Front, WithoutItAHeaderBlockFloodGrowsRexecd) {
  auto server = RexecdProcess::Start();
  ASSERT_NE(server, nullptr);
  const int64_t growth = PeakGrowth(*server, [&] {
    Flood(PortOf(server->address()), 4, absl::Seconds(1));
  });
  EXPECT_GT(growth, 64 * kMiB) << "the flood grew rexecd by "
                               << growth / kMiB << " MiB only";
}

TEST(Front, AHeaderBlockFloodDoesNotReachRexecd) {
  auto server = RexecdProcess::Start({"--front", "haproxy"});
  ASSERT_NE(server, nullptr);
  const int port = PortOf(server->address());
  CliResult during;
  int64_t sent = 0;
  const int64_t growth = PeakGrowth(*server, [&] {
    std::thread flood([&] { sent = Flood(port, 4, absl::Seconds(10)); });
    absl::SleepFor(absl::Seconds(3));
    during = RunRexec(
        {"--server", server->address(), "spawn", "--", "echo", "served"});
    flood.join();
  });
  std::cout << "flood: " << sent / kMiB << " MiB of header block in 10 s on "
            << "4 connections; rexecd grew " << growth / kMiB << " MiB\n";
  EXPECT_GT(sent, 64 * kMiB) << "the flood did not run";
  EXPECT_LT(growth, 64 * kMiB) << "rexecd grew by " << growth / kMiB
                               << " MiB while " << sent / kMiB
                               << " MiB of header block were sent";
  EXPECT_EQ(during.code, 0) << during.err;
  EXPECT_EQ(during.out, "served\n");
}

std::vector<pid_t> ChildrenNamed(pid_t parent, const std::string& name) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  while (dirent* entry = proc != nullptr ? readdir(proc) : nullptr) {
    pid_t pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    const std::string comm = stat.substr(stat.find('(') + 1,
                                         close - stat.find('(') - 1);
    int ppid = 0;
    if (comm == name &&
        sscanf(stat.c_str() + close + 2, "%*c %d", &ppid) == 1 &&
        ppid == parent) {
      found.push_back(pid);
    }
  }
  if (proc != nullptr) closedir(proc);
  return found;
}

TEST(Front, HaproxyIsStartedAgainAndEndsWithRexecd) {
  TempDir dir;
  const std::string socket = dir.path() + "/rexecd.sock";
  auto server = RexecdProcess::Start({"--front", "haproxy", "--listen",
                                      "127.0.0.1:0", "--listen",
                                      "unix:" + socket, "--socket-mode",
                                      "0660"});
  ASSERT_NE(server, nullptr);
  struct stat st;
  ASSERT_EQ(stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  // rexecd forks it before it says where it listens, but the fork may not
  // have reached execve yet: until then it is named after rexecd.
  std::vector<pid_t> haproxy;
  ASSERT_TRUE(Eventually(
      [&] {
        haproxy = ChildrenNamed(server->server_pid(), "haproxy");
        return haproxy.size() == 1;
      },
      absl::Seconds(10)))
      << haproxy.size() << " children of rexecd named haproxy";
  // Under a root rexecd it runs as a user of its own, and non-dumpable: its
  // /proc entries stay root's, so that no child may ptrace it, read its
  // memory or take its fds.
  // (Once it has read its configuration: it drops its user then.)
  std::string status;
  EXPECT_TRUE(Eventually(
      [&] {
        status = ReadFile(absl::StrCat("/proc/", haproxy[0], "/status"));
        return !absl::StrContains(status, "\nUid:\t0\t");
      },
      absl::Seconds(10)))
      << status;
  ASSERT_EQ(stat(absl::StrCat("/proc/", haproxy[0], "/fd").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "haproxy is dumpable";
  ASSERT_EQ(kill(haproxy[0], SIGKILL), 0);
  EXPECT_THAT(server->WaitForLogLine("it is started again"),
              HasSubstr("ended (signal 9)"));
  // The same addresses, served by the new one: TCP, and the unix socket,
  // whose callers are named by it in the audit.
  for (const std::string& address : {server->address(), "unix:" + socket}) {
    CliResult r = RunRexec({"--server", address, "spawn", "--", "echo", "up"});
    EXPECT_EQ(r.code, 0) << address << ": " << r.err;
    EXPECT_EQ(r.out, "up\n");
  }
  EXPECT_THAT(server->WaitForLogLine("peer=\"unix:" + socket),
              HasSubstr("status=OK"));
  EXPECT_THAT(server->WaitForLogLine("peer=\"ipv4:127.0.0.1:"),
              HasSubstr("status=OK"));
  haproxy = ChildrenNamed(server->server_pid(), "haproxy");
  ASSERT_EQ(haproxy.size(), 1u);

  EXPECT_EQ(server->Terminate().code(), 0);
  EXPECT_NE(kill(haproxy[0], 0), 0) << "haproxy outlived rexecd";
  EXPECT_NE(stat(socket.c_str(), &st), 0) << socket << " is left";
}

// rexecd believes the headers that name a caller only from its front: any
// other process that connects to the private socket (a child of rexecd's,
// as its user) is refused.
TEST(Front, OnlyItsHaproxyReachesRexecdsPrivateSocket) {
  auto server = RexecdProcess::Start({"--front", "haproxy"});
  ASSERT_NE(server, nullptr);
  const std::string name = server->LoggedAddress("rexecd serves it on @");
  ASSERT_FALSE(name.empty());
  // The abstract name as HAProxy and rexecd spell it: the whole sun_path.
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const int direct = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(direct, reinterpret_cast<sockaddr*>(&address),
                    sizeof address),
            0);
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // The refusal may come first: then this send fails, which is fine.
  send(direct, preface.data(), preface.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(ClosedByServer(direct, absl::Seconds(5)));
  close(direct);
  EXPECT_THAT(server->WaitForLogLine("to rexecd's private socket, the last "
                                     "from pid"),
              HasSubstr("only the HAProxy it started may connect there"));
  // A child of rexecd's, as its user, fares no better.
  const std::string script =
      "import socket, sys\n"
      "s = socket.socket(socket.AF_UNIX)\n"
      "name = b'\\0' + sys.argv[1].encode()\n"
      "s.connect(name + b'\\0' * (108 - len(name)))\n"
      "s.settimeout(5)\n"
      "try:\n"
      "    s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n')\n"
      "    print('closed' if s.recv(100) == b'' else 'answered')\n"
      "except (BrokenPipeError, ConnectionResetError):\n"
      "    print('closed')\n";
  CliResult child =
      RunRexec({"--server", server->address(), "spawn", "--",
                "/usr/bin/python3", "-c", script, name});
  EXPECT_EQ(child.out, "closed\n") << child.err;
  CliResult through = RunRexec(
      {"--server", server->address(), "spawn", "--", "echo", "front"});
  EXPECT_EQ(through.out, "front\n") << through.err;
}

// HAProxy answers a client's HTTP/2 pings itself, at any rate: a silent
// call with pings every second goes on, and a front that froze (or its
// host) ends the call UNAVAILABLE. A frozen rexecd behind a running front
// is not seen by the client (README, "A server that froze or vanished").
TEST(Front, HaproxyAnswersTheClientsKeepalivePings) {
  auto server = RexecdProcess::Start({"--front", "haproxy"});
  ASSERT_NE(server, nullptr);
  CliResult silent =
      RunRexecWithin({"--server", server->address(), "--keepalive-time", "1s",
                      "spawn", "--", "sleep", "6"},
                     absl::Seconds(60));
  EXPECT_EQ(silent.code, 0) << silent.err;

  std::vector<pid_t> haproxy;
  ASSERT_TRUE(Eventually([&] {
    haproxy = ChildrenNamed(server->server_pid(), "haproxy");
    return haproxy.size() == 1;
  }));
  std::thread freeze([&] {
    // (The CLI has "1002" among its arguments too.)
    if (Eventually(
            [&] { return !ChildrenNamed(server->server_pid(), "sleep").empty(); })) {
      kill(haproxy[0], SIGSTOP);
    }
  });
  CliResult frozen = RunRexecWithin(
      {"--server", server->address(), "--keepalive-time", "1s",
       "--keepalive-timeout", "1s", "spawn", "--", "sleep", "1002"},
      absl::Seconds(40));
  freeze.join();
  kill(haproxy[0], SIGCONT);
  EXPECT_EQ(frozen.code, 255) << frozen.err;
  EXPECT_THAT(frozen.err, HasSubstr("UNAVAILABLE"));
  // Running again, the front ends the call's stream, and rexecd stops the
  // child.
  EXPECT_THAT(server->WaitForLogLine("\"1002\""),
              HasSubstr("reason=CLIENT_GONE"))
      << server->Log();
}

TEST(Front, AProgramThatIsNotThereOrAConfigurationItRefusesStopsRexecd) {
  struct Case {
    std::vector<std::string> flags;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {{"--front", "no-such-haproxy"},
            "--front no-such-haproxy: no such program in PATH"},
           {{"--front", "/bin/false"}, "refused its configuration"},
           {{"--front", "haproxy", "--listen", "unix-abstract:x", "--insecure"},
            "--front takes unix:/path, not abstract sockets"}}) {
    process::SpawnOptions options;
    options.argv = {RexecdPath()};
    if (std::find(c.flags.begin(), c.flags.end(), "--listen") ==
        c.flags.end()) {
      options.argv.insert(options.argv.end(),
                          {"--listen", "127.0.0.1:0", "--insecure"});
    }
    options.argv.insert(options.argv.end(), c.flags.begin(), c.flags.end());
    absl::StatusOr<process::Child> child = process::Child::Spawn(options);
    ASSERT_TRUE(child.ok());
    Result r = RunChild(*child);
    EXPECT_EQ(r.status.code(), 1) << c.error;
    EXPECT_THAT(r.err, HasSubstr(c.error));
  }
}

}  // namespace
}  // namespace rexec::testing
