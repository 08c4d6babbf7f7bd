// Tag is what every completion-queue operation carries: the worker loop does
// static_cast<Tag*>(tag)->Run(ok), and the tag calls the member function of
// the call it belongs to (OnRead, OnWrite...). One tag object per kind of
// operation, owned by the call; at most one operation per tag in flight.
#ifndef REXEC_SERVER_RPC_TAG_H_
#define REXEC_SERVER_RPC_TAG_H_

namespace rexec::rpc {

class Tag {
 public:
  virtual ~Tag() = default;
  virtual void Run(bool ok) = 0;
};

template <typename T>
class MemberTag final : public Tag {
 public:
  MemberTag(T* owner, void (T::*method)(bool))
      : owner_(owner), method_(method) {}
  void Run(bool ok) override { (owner_->*method_)(ok); }

 private:
  T* const owner_;
  void (T::*const method_)(bool);
};

}  // namespace rexec::rpc

#endif  // REXEC_SERVER_RPC_TAG_H_
