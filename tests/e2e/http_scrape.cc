#include "tests/e2e/http_scrape.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace rexec::testing {

std::string HttpExchange(const std::string& address, const std::string& request,
                         int timeout_seconds) {
  const size_t colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(std::stoi(address.substr(colon + 1)));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    (void)!write(fd, request.data(), request.size());
    char buf[8192];
    for (ssize_t n;
         answer.size() < (8 << 20) && (n = read(fd, buf, sizeof buf)) > 0;) {
      answer.append(buf, n);
    }
  }
  close(fd);
  return answer;
}

std::string Get(const std::string& address, const std::string& path) {
  return HttpExchange(address, "GET " + path +
                                   " HTTP/1.1\r\nHost: x\r\nConnection: "
                                   "close\r\n\r\n");
}

double Sample(const std::string& page, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

}  // namespace rexec::testing
