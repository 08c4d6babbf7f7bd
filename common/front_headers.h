// The headers that rexecd's front (--front: HAProxy, server/front/) sets on
// every call it forwards, a client's own being deleted first: where the call
// came in, from where, over what, with which verified certificate. rexecd
// believes them only on its private socket, which only the front reaches.
#ifndef REXEC_COMMON_FRONT_HEADERS_H_
#define REXEC_COMMON_FRONT_HEADERS_H_

#include "absl/strings/string_view.h"

namespace rexec {

// All of them begin so; the front deletes every such header a client sent.
inline constexpr absl::string_view kFrontHeaderPrefix = "x-rexec-front-";
// The index of the --listen address the call came in on.
inline constexpr absl::string_view kFrontListenerHeader =
    "x-rexec-front-listener";
// The client's IP address and port (TCP).
inline constexpr absl::string_view kFrontSourceHeader = "x-rexec-front-src";
inline constexpr absl::string_view kFrontPortHeader = "x-rexec-front-port";
// "1" when the client's connection was TLS.
inline constexpr absl::string_view kFrontTlsHeader = "x-rexec-front-tls";
// The verified client certificate, DER in base64 (mTLS only).
inline constexpr absl::string_view kFrontCertificateHeader =
    "x-rexec-front-cert";

}  // namespace rexec

#endif  // REXEC_COMMON_FRONT_HEADERS_H_
