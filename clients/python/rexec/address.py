"""What a gRPC target address names, for the one rule that depends on it: a
bearer token is sent in plaintext only where no network can read it (a unix
socket or loopback), as the `rexec` CLI and rexecd decide (common/address.cc).

Pure functions; thread-safe.
"""
import ipaddress


def is_unix(address):
    """"unix:/path", "unix:///path", "unix-abstract:name"."""
    return address.startswith(("unix:", "unix-abstract:"))


def is_loopback_ip(host):
    """A literal IP address (no port, no brackets) that is loopback, IPv4
    mapped into IPv6 included (as a dual-stack listener sees 127.0.0.1)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def host_of(host_port):
    """"127.0.0.1:5000" or "[::1]:5000" -> the host, without brackets."""
    if host_port.startswith("["):
        close = host_port.find("]")
        return "" if close < 0 else host_port[1:close]
    colon = host_port.rfind(":")
    return host_port if colon < 0 else host_port[:colon]


def is_loopback(address):
    """A TCP address whose host is loopback: "127.0.0.1:N", "[::1]:N",
    "localhost:N" (also with a dns: scheme), or an ipv4:/ipv6: list whose
    every address is."""
    # gRPC percent-decodes a target: what is encoded was not read here.
    if not address or "%" in address:
        return False
    is_list = address.startswith(("ipv4:", "ipv6:"))
    if is_list:
        address = address[5:]
    elif address.startswith("dns:///"):
        address = address[7:]
    elif address.startswith("dns:"):
        address = address[4:]
    for entry in address.split(","):
        host = host_of(entry)
        if not (host == "localhost" and not is_list) and not is_loopback_ip(host):
            return False
    return True
