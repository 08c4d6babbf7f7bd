#include "server/process/launch_spec.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace rexec::process {
namespace {

// Fixed-width native integers and length-prefixed strings: both ends are
// this program, on this machine.
class Writer {
 public:
  void U64(uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
  void Str(absl::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Strs(const std::vector<std::string>& list) {
    U64(list.size());
    for (const std::string& s : list) Str(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() < 8) return Fail();
    std::memcpy(v, in_.data(), 8);
    in_.remove_prefix(8);
    return true;
  }
  bool Str(std::string* s) {
    uint64_t size;
    if (!U64(&size) || size > in_.size()) return Fail();
    if (in_.substr(0, size).find('\0') != absl::string_view::npos) {
      return Fail();
    }
    s->assign(in_.data(), size);
    in_.remove_prefix(size);
    return true;
  }
  bool Strs(std::vector<std::string>* list) {
    uint64_t count;
    // Each string takes at least its 8-byte length.
    if (!U64(&count) || count > in_.size() / 8) return Fail();
    list->resize(count);
    for (std::string& s : *list) {
      if (!Str(&s)) return false;
    }
    return true;
  }
  // A value that must fit T exactly: one encoding per spec, so that what
  // decodes encodes back to the same bytes.
  template <typename T>
  bool Int(T* v) {
    uint64_t raw;
    if (!U64(&raw)) return false;
    *v = static_cast<T>(raw);
    if (static_cast<uint64_t>(*v) != raw) return Fail();
    return true;
  }
  bool Flag(bool* v) {
    uint64_t raw;
    if (!U64(&raw) || raw > 1) return Fail();
    *v = raw == 1;
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return in_.empty(); }

 private:
  bool Fail() { return ok_ = false; }
  absl::string_view in_;
  bool ok_ = true;
};

}  // namespace

std::string EncodeLaunchSpec(const LaunchSpec& spec) {
  Writer w;
  w.Str(spec.path);
  w.Strs(spec.argv);
  w.Strs(spec.envp);
  w.Str(spec.cwd);
  w.U64(spec.fd_targets.size());
  for (int fd : spec.fd_targets) w.U64(fd);
  w.U64(spec.controlling_tty >= 0);
  w.U64(std::max(spec.controlling_tty, 0));
  w.U64(spec.into_cgroup);
  const Containment& c = spec.containment;
  w.U64(c.credentials.has_value());
  if (c.credentials) {
    w.U64(c.credentials->uid);
    w.U64(c.credentials->gid);
    w.U64(c.credentials->groups.size());
    for (gid_t g : c.credentials->groups) w.U64(g);
  }
  w.U64(c.limits.size());
  for (const ResourceLimit& limit : c.limits) {
    w.U64(limit.resource);
    w.U64(limit.soft);
    w.U64(limit.hard);
  }
  w.U64(c.no_new_privs);
  w.U64(c.capabilities.has_value());
  w.U64(c.capabilities.value_or(0));
  w.U64(c.pid_namespace);
  w.U64(c.seccomp);
  w.U64(spec.new_session);
  w.U64(spec.umask.has_value());
  w.U64(spec.umask.value_or(0));
  return w.Take();
}

absl::StatusOr<LaunchSpec> DecodeLaunchSpec(absl::string_view bytes) {
  // Bounds on counts: far over what a real spec has, far under what could
  // make the decoder itself a problem.
  constexpr uint64_t kMaxFds = 64, kMaxGroups = 65536, kMaxLimits = 64;
  LaunchSpec spec;
  Reader r(bytes);
  uint64_t count = 0;
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("launch spec is malformed at ", what));
  };
  if (!r.Str(&spec.path) || !r.Strs(&spec.argv) || !r.Strs(&spec.envp) ||
      !r.Str(&spec.cwd)) {
    return bad("path, argv, envp or cwd");
  }
  if (!r.U64(&count) || count > kMaxFds) return bad("fd_targets");
  spec.fd_targets.resize(count);
  for (int& fd : spec.fd_targets) {
    if (!r.Int(&fd) || fd < 0 || fd >= 1024) return bad("fd_targets");
  }
  bool has_tty = false;
  int tty = 0;
  if (!r.Flag(&has_tty) || !r.Int(&tty) ||
      (has_tty && std::find(spec.fd_targets.begin(), spec.fd_targets.end(),
                            tty) == spec.fd_targets.end()) ||
      (!has_tty && tty != 0)) {
    return bad("controlling_tty");
  }
  spec.controlling_tty = has_tty ? tty : -1;
  if (!r.Flag(&spec.into_cgroup)) return bad("into_cgroup");
  Containment& c = spec.containment;
  bool has_credentials = false;
  if (!r.Flag(&has_credentials)) return bad("credentials");
  if (has_credentials) {
    Credentials& cred = c.credentials.emplace();
    if (!r.Int(&cred.uid) || !r.Int(&cred.gid) || !r.U64(&count) ||
        count > kMaxGroups) {
      return bad("credentials");
    }
    cred.groups.resize(count);
    for (gid_t& g : cred.groups) {
      if (!r.Int(&g)) return bad("credentials.groups");
    }
  }
  if (!r.U64(&count) || count > kMaxLimits) return bad("limits");
  c.limits.resize(count);
  for (ResourceLimit& limit : c.limits) {
    if (!r.Int(&limit.resource) || !r.Int(&limit.soft) || !r.Int(&limit.hard)) {
      return bad("limits");
    }
  }
  bool has_caps = false;
  uint64_t caps = 0;
  if (!r.Flag(&c.no_new_privs) || !r.Flag(&has_caps) || !r.U64(&caps) ||
      (!has_caps && caps != 0) || !r.Flag(&c.pid_namespace) ||
      !r.Flag(&c.seccomp) || (c.seccomp && !c.no_new_privs)) {
    return bad("no_new_privs, capabilities, pid_namespace or seccomp");
  }
  if (has_caps) c.capabilities = caps;
  bool has_umask = false;
  mode_t umask = 0;
  if (!r.Flag(&spec.new_session) || !r.Flag(&has_umask) || !r.Int(&umask) ||
      umask > 0777 || (!has_umask && umask != 0) || !r.done()) {
    return bad("new_session or umask");
  }
  if (has_umask) spec.umask = umask;
  return spec;
}

}  // namespace rexec::process
