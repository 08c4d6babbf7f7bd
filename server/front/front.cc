#include "server/front/front.h"

#include <fcntl.h>
// <netdb.h> declares BSD's rexec(3), which would collide with our namespace.
#define rexec netdb_rexec
#include <netdb.h>
#undef rexec
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pwd.h>

#include <algorithm>
#include <cstddef>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/bounded_file.h"
#include "common/errno_status.h"
#include "server/process/child_registry.h"
#include "server/process/executable_lookup.h"
#include "spdlog/spdlog.h"

namespace rexec::front {
namespace {

constexpr size_t kMaxTlsFile = 1 << 20;

// A memfd holding `text` that no one can change any more (HAProxy reads it
// as /dev/fd/N): close-on-exec; the caller passes it on.
absl::StatusOr<int> SealedMemfd(const char* name, const std::string& text) {
  const int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return ErrnoStatus(errno, "--front: memfd_create");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      close(fd);
      return ErrnoStatus(error, "--front: writing a memfd");
    }
    done += n;
  }
  if (fcntl(fd, F_ADD_SEALS,
            F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, "--front: sealing a memfd");
  }
  return fd;
}

// 128 random bits in hex: an abstract socket's name that no other process
// can take first.
absl::StatusOr<std::string> RandomName() {
  uint8_t bytes[16];
  if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes) {
    return ErrnoStatus(errno, "--front: getrandom");
  }
  return absl::StrCat("rexecd-front-",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(bytes), sizeof bytes)));
}

absl::StatusOr<int> BindAbstract(const std::string& name) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  // The whole sun_path, zeros after the name: HAProxy's abns@ addresses
  // are that long, and abstract names are compared by length too.
  const socklen_t length = sizeof address;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "--front: socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(fd, 1024) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, absl::StrCat("--front: listen on @", name));
  }
  return fd;
}

// Who HAProxy runs as under a root rexecd: the user Debian's package
// makes for it, else nobody.
std::pair<uid_t, gid_t> HaproxyUser() {
  for (const char* name : {"haproxy", "nobody"}) {
    if (const passwd* user = getpwnam(name)) {
      return {user->pw_uid, user->pw_gid};
    }
  }
  return {65534, 65534};
}

// The process layer's PATH lookup, with /usr/sbin and /usr/local/sbin
// after PATH: Debian's haproxy is in /usr/sbin, which a user's PATH may
// lack.
absl::StatusOr<std::string> FindProgram(const std::string& name) {
  const char* path = getenv("PATH");
  const std::string searched = absl::StrCat(
      path != nullptr ? path : "/usr/bin:/bin", ":/usr/sbin:/usr/local/sbin");
  absl::StatusOr<std::string> found =
      process::FindExecutable(name, searched, "");
  if (found.ok()) return found;
  if (found.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(
        "--front ", name, ": no such program in PATH (install haproxy)"));
  }
  return absl::Status(found.status().code(),
                      absl::StrCat("--front ", found.status().message()));
}

// "host:port" -> a listening TCP socket; *bound is the address with the
// port the kernel chose.
absl::StatusOr<int> BindTcp(const std::string& address, std::string* bound) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen ", address, ": not host:port or unix:/path"));
  }
  const std::string host(HostOf(address));
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int error = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                              port.c_str(), &hints, &found);
      error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen ", address, ": ", gai_strerror(error)));
  }
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    return ErrnoStatus(errno, absl::StrCat("--listen ", address));
  }
  const int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // "[::]" takes IPv4 too, as gRPC's listener does.
  if (found->ai_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  const int bound_ok = bind(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (bound_ok != 0 || listen(fd, 1024) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, absl::StrCat("cannot listen on ", address));
  }
  sockaddr_storage name{};
  socklen_t length = sizeof name;
  getsockname(fd, reinterpret_cast<sockaddr*>(&name), &length);
  const int chosen = ntohs(name.ss_family == AF_INET6
                               ? reinterpret_cast<sockaddr_in6*>(&name)->sin6_port
                               : reinterpret_cast<sockaddr_in*>(&name)->sin_port);
  *bound = absl::StrCat(address.substr(0, colon + 1), chosen);
  return fd;
}

// A unix socket made under a umask that leaves it 0600 (no moment where
// others could connect), then given its mode and group.
absl::StatusOr<int> BindUnix(const std::string& address, mode_t mode,
                             std::optional<gid_t> group) {
  const std::string path = UnixSocketPath(address);
  sockaddr_un name{};
  name.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof name.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat(
        address, ": a unix socket's path is 1 to ",
        sizeof name.sun_path - 1, " bytes"));
  }
  std::memcpy(name.sun_path, path.data(), path.size());
  struct stat existing;
  // A socket left by an earlier run; anything else there is not ours.
  if (lstat(path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode)) {
    unlink(path.c_str());
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("--listen ", address));
  const mode_t old_umask = umask(0177);
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&name), sizeof name);
  umask(old_umask);
  if (bound != 0 || listen(fd, 1024) != 0) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, absl::StrCat("cannot listen on ", address));
  }
  if (chmod(path.c_str(), mode) != 0 ||
      (group.has_value() && chown(path.c_str(), -1, *group) != 0)) {
    const int error = errno;
    close(fd);
    return ErrnoStatus(error, absl::StrCat("chmod/chown ", path));
  }
  return fd;
}

// Reaps `pid`, a child of ours: true once it has ended (its status in
// *status when asked).
bool Reap(pid_t pid, int* status, bool wait) {
  int got = 0;
  pid_t result;
  do {
    result = waitpid(pid, &got, wait ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return false;
  if (status != nullptr) *status = result == pid ? got : 0;
  process::ChildRegistry::Global().Reaped(pid);
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Front>> Front::Bind(FrontOptions options) {
  std::unique_ptr<Front> front(new Front(std::move(options)));
  absl::StatusOr<std::string> haproxy = FindProgram(front->options_.haproxy);
  if (!haproxy.ok()) return haproxy.status();
  front->haproxy_ = *haproxy;
  if (geteuid() == 0) front->run_as_ = HaproxyUser();
  if (absl::Status bound = front->BindAll(); !bound.ok()) return bound;
  for (auto [name, fd] : {std::pair{&front->api_name_, &front->api_fd_},
                          std::pair{&front->health_name_, &front->health_fd_}}) {
    if (fd == &front->health_fd_ && !front->has_health()) continue;
    absl::StatusOr<std::string> random = RandomName();
    if (!random.ok()) return random.status();
    *name = *random;
    absl::StatusOr<int> bound = BindAbstract(*name);
    if (!bound.ok()) return bound.status();
    *fd = *bound;
  }
  return front;
}

absl::Status Front::BindAll() {
  std::vector<std::pair<std::string, bool>> wanted;
  for (const std::string& address : options_.listen) {
    wanted.emplace_back(address, false);
  }
  if (!options_.health_listen.empty()) {
    wanted.emplace_back(options_.health_listen, true);
  }
  for (const auto& [address, health] : wanted) {
    Listener l;
    l.address = address;
    l.health = health;
    if (absl::StartsWith(address, "unix-abstract:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--listen ", address, ": --front takes unix:/path, not abstract "
          "sockets"));
    }
    l.unix_socket = IsUnixAddress(address);
    absl::StatusOr<int> fd =
        l.unix_socket
            ? BindUnix(address, options_.socket_mode, options_.socket_group)
            : BindTcp(address, &l.bound);
    if (!fd.ok()) return fd.status();
    l.fd = *fd;
    if (l.unix_socket) l.bound = address;
    if (health) {
      bound_health_ = l.bound;
    } else {
      addresses_.push_back(l.bound);
    }
    listeners_.push_back(std::move(l));
  }
  return absl::OkStatus();
}

Front::~Front() {
  if (stop_fd_ >= 0) {
    eventfd_write(stop_fd_, 1);
    if (supervisor_.joinable()) supervisor_.join();
    close(stop_fd_);
  }
  for (int fd : {api_fd_, health_fd_, config_fd_, pem_fd_, ca_fd_}) {
    if (fd >= 0) close(fd);
  }
  for (Listener& l : listeners_) {
    if (l.fd >= 0) close(l.fd);
    if (l.unix_socket) unlink(UnixSocketPath(l.address).c_str());
  }
}

std::vector<std::string> Front::ListenerPeers() const {
  std::vector<std::string> peers;
  for (const Listener& l : listeners_) {
    if (!l.health) peers.push_back(l.unix_socket ? l.address : "");
  }
  return peers;
}

bool Front::TlsFilesChanged() {
  std::string text;
  for (const std::string* path :
       {&options_.tls_cert, &options_.tls_key, &options_.tls_client_ca}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> read = ReadBoundedFile(*path, kMaxTlsFile);
    // A file being replaced is read again at the next refresh.
    if (!read.ok()) return false;
    absl::StrAppend(&text, *read, "\n");
  }
  return text != tls_text_;
}

// HAProxy's fds: the listeners as 3, 4, ..., then the configuration, the
// PEM and the CA.
absl::Status Front::MakeFiles() {
  const int listeners = static_cast<int>(listeners_.size());
  HaproxySettings settings = options_.limits;
  settings.binds.clear();
  for (int i = 0; i < listeners; ++i) {
    settings.binds.push_back(
        {3 + i, listeners_[i].unix_socket, listeners_[i].health});
  }
  settings.api_socket = absl::StrCat("abns@", api_name_);
  if (has_health()) settings.health_socket = absl::StrCat("abns@", health_name_);
  settings.run_as = run_as_;
  settings.tls_pem.clear();
  settings.client_ca.clear();
  settings.client_certificate_optional = options_.client_certificate_optional;
  std::string tls_text, pem, ca;
  if (!options_.tls_cert.empty()) {
    // HAProxy wants the chain and its key in one file.
    for (const std::string* path : {&options_.tls_cert, &options_.tls_key}) {
      absl::StatusOr<std::string> read = ReadBoundedFile(*path, kMaxTlsFile);
      if (!read.ok()) return read.status();
      absl::StrAppend(&tls_text, *read, "\n");
      absl::StrAppend(&pem, *read, "\n");
    }
    settings.tls_pem = absl::StrCat("/dev/fd/", 4 + listeners);
    if (!options_.tls_client_ca.empty()) {
      absl::StatusOr<std::string> read =
          ReadBoundedFile(options_.tls_client_ca, kMaxTlsFile);
      if (!read.ok()) return read.status();
      absl::StrAppend(&tls_text, *read, "\n");
      ca = *std::move(read);
      settings.client_ca = absl::StrCat("/dev/fd/", 5 + listeners);
    }
  }
  struct Made {
    const char* name;
    const std::string* text;
    int* fd;
  };
  const std::string config = RenderHaproxyConfig(settings);
  for (const Made& m : {Made{"haproxy.cfg", &config, &config_fd_},
                        Made{"tls.pem", &pem, &pem_fd_},
                        Made{"client-ca.pem", &ca, &ca_fd_}}) {
    absl::StatusOr<int> fd = SealedMemfd(m.name, *m.text);
    if (!fd.ok()) return fd.status();
    if (*m.fd >= 0) close(*m.fd);
    *m.fd = *fd;
  }
  tls_text_ = std::move(tls_text);
  return absl::OkStatus();
}

absl::StatusOr<pid_t> Front::Launch(bool check_only) {
  const int listeners = static_cast<int>(listeners_.size());
  const std::string config = absl::StrCat("/dev/fd/", 3 + listeners);
  // Everything the child needs, made before fork: after it, in a process
  // with threads, only async-signal-safe calls.
  std::vector<std::string> args = {haproxy_, "-f", config};
  args.push_back(check_only ? "-c" : "-db");
  if (check_only) args.push_back("-q");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {const_cast<char*>("PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
                  nullptr};
  std::vector<int> fds;
  for (const Listener& l : listeners_) fds.push_back(l.fd);
  for (int fd : {config_fd_, pem_fd_, ca_fd_}) fds.push_back(fd);
  const int count = static_cast<int>(fds.size());
  const pid_t parent = getpid();
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

  // Registered, so that the orphan reaper leaves its exit to us.
  process::ChildRegistry& registry = process::ChildRegistry::Global();
  registry.BeginSpawn();
  const pid_t pid = fork();
  if (pid > 0) registry.Adopt(pid);
  if (pid != 0) registry.EndSpawn(-1);
  if (pid < 0) {
    const int error = errno;
    if (null_fd >= 0) close(null_fd);
    return ErrnoStatus(error, absl::StrCat("--front: fork for ", haproxy_));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (null_fd >= 0) dup2(null_fd, 0);
    // Out of the way first (a source may sit where a target goes), then
    // into place as 3, 4, ...; dup2 clears close-on-exec.
    int moved[64];
    for (int i = 0; i < count && i < 64; ++i) {
      moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + count);
    }
    for (int i = 0; i < count && i < 64; ++i) dup2(moved[i], 3 + i);
    execve(argv[0], argv.data(), envp);
    _exit(127);
  }
  if (null_fd >= 0) close(null_fd);
  return pid;
}

absl::Status Front::Start(
    std::function<void(int fd, bool health)> on_connection) {
  on_connection_ = std::move(on_connection);
  if (listeners_.size() > 60) {
    return absl::InvalidArgumentError("--front: at most 60 addresses");
  }
  if (!run_as_.has_value() && access(haproxy_.c_str(), R_OK) == 0) {
    spdlog::warn(
        "--front: rexecd is not root, so HAProxy runs as its user, as its "
        "children may: one of them could read HAProxy's memory (callers' "
        "tokens, the TLS key) and take its sockets; make {} execute-only "
        "for this user (chmod 0711; the kernel then keeps HAProxy "
        "non-dumpable, as the image does), or run rexecd as root",
        haproxy_);
  }
  if (absl::Status made = MakeFiles(); !made.ok()) return made;
  absl::StatusOr<pid_t> check = Launch(/*check_only=*/true);
  if (!check.ok()) return check.status();
  int status = 0;
  Reap(*check, &status, /*wait=*/true);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--front: ", haproxy_,
        " refused its configuration (its message is above)"));
  }
  absl::StatusOr<pid_t> pid = Launch(/*check_only=*/false);
  if (!pid.ok()) return pid.status();
  {
    absl::MutexLock lock(&mu_);
    current_ = *pid;
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (stop_fd_ < 0) return ErrnoStatus(errno, "--front: eventfd");
  supervisor_ = std::thread([this] { Supervise(); });
  return absl::OkStatus();
}

void Front::Accept(int listener, bool health) {
  const int fd = accept4(listener, nullptr, nullptr,
                         SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  ucred peer{};
  socklen_t length = sizeof peer;
  bool ours = false;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) == 0) {
    absl::MutexLock lock(&mu_);
    ours = peer.pid == current_ ||
           std::find(retiring_.begin(), retiring_.end(), peer.pid) !=
               retiring_.end();
  }
  if (ours) {
    on_connection_(fd, health);
    return;
  }
  close(fd);
  // Said at most once a second: refusals cost a connect each, a log line
  // would cost more.
  ++refusals_unsaid_;
  if (absl::Now() - last_refusal_said_ >= absl::Seconds(1)) {
    spdlog::warn(
        "--front: refused {} connection(s) to rexecd's private socket, the "
        "last from pid {} (uid {}): only the HAProxy it started may connect "
        "there",
        refusals_unsaid_, peer.pid, peer.uid);
    refusals_unsaid_ = 0;
    last_refusal_said_ = absl::Now();
  }
}

void Front::Supervise() {
  absl::Time next_tls_check = absl::Now() + options_.tls_refresh;
  absl::Time restart_not_before = absl::InfinitePast();
  for (;;) {
    pollfd fds[3] = {{stop_fd_, POLLIN, 0},
                     {api_fd_, POLLIN, 0},
                     {health_fd_, POLLIN, 0}};
    // Wakes at least each second: to reap, and to look at the TLS files.
    if (poll(fds, 3, 1000) > 0) {
      if (fds[0].revents & POLLIN) break;
      if (fds[1].revents & POLLIN) Accept(api_fd_, false);
      if (fds[2].revents & POLLIN) Accept(health_fd_, true);
    }
    absl::MutexLock lock(&mu_);
    // An HAProxy that retired (finished its calls) is reaped.
    retiring_.erase(
        std::remove_if(retiring_.begin(), retiring_.end(),
                       [](pid_t pid) { return Reap(pid, nullptr, false); }),
        retiring_.end());
    int status = 0;
    if (current_ > 0 && Reap(current_, &status, false)) {
      spdlog::error(
          "--front: {} (pid {}) ended ({} {}); it is started again", haproxy_,
          current_, WIFSIGNALED(status) ? "signal" : "exit",
          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      current_ = -1;
    }
    if (current_ < 0 && absl::Now() >= restart_not_before) {
      restart_not_before = absl::Now() + absl::Seconds(1);
      absl::StatusOr<pid_t> pid = Launch(false);
      if (pid.ok()) {
        current_ = *pid;
      } else {
        spdlog::error("{}", std::string(pid.status().message()));
      }
    }
    if (!options_.tls_cert.empty() && absl::Now() >= next_tls_check) {
      next_tls_check = absl::Now() + options_.tls_refresh;
      if (TlsFilesChanged()) {
        if (absl::Status made = MakeFiles(); !made.ok()) {
          spdlog::error("--front: the TLS files changed and could not be "
                        "taken: {}", std::string(made.message()));
          continue;
        }
        absl::StatusOr<pid_t> pid = Launch(false);
        if (!pid.ok()) {
          spdlog::error("{}", std::string(pid.status().message()));
          continue;
        }
        spdlog::info("--front: the TLS files changed; new connections go to "
                     "a new {} (pid {})", haproxy_, *pid);
        if (current_ > 0) {
          kill(current_, SIGUSR1);  // soft stop: running calls finish
          retiring_.push_back(current_);
        }
        current_ = *pid;
      }
    }
  }
  absl::MutexLock lock(&mu_);
  std::vector<pid_t> all = retiring_;
  if (current_ > 0) all.push_back(current_);
  for (pid_t pid : all) kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  for (pid_t pid : all) {
    bool reaped = false;
    while (!(reaped = Reap(pid, nullptr, false)) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (!reaped) {
      kill(pid, SIGKILL);
      Reap(pid, nullptr, true);
    }
  }
  current_ = -1;
  retiring_.clear();
}

}  // namespace rexec::front
