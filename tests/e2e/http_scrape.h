// Plain HTTP for the tests of rexecd's metrics port: one exchange on a
// fresh connection, a GET, and one series' value of a Prometheus page.
#ifndef REXEC_TESTS_E2E_HTTP_SCRAPE_H_
#define REXEC_TESTS_E2E_HTTP_SCRAPE_H_

#include <string>

namespace rexec::testing {

// Sends `request` to HOST:PORT (IPv4) and reads the answer to its end
// (bounded in size and by `timeout_seconds` per read).
std::string HttpExchange(const std::string& address, const std::string& request,
                         int timeout_seconds = 10);
// The whole answer (status line, headers and body) to GET `path`.
std::string Get(const std::string& address, const std::string& path);
// The value of one series ("rexec_exits_total{reason=\"exited\"}") on a
// metrics page, or -1.
double Sample(const std::string& page, const std::string& series);

}  // namespace rexec::testing

#endif  // REXEC_TESTS_E2E_HTTP_SCRAPE_H_
