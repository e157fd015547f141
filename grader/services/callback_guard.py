"""Where a score may be sent: public addresses, plus the private networks an operator lists.

An LMS token could otherwise make the grader POST to the cloud metadata endpoint or a service on the worker's
own network. The check happens twice: on the literal address at upload, and on every resolved address at
delivery, where the connection is then pinned to the address that was checked (a DNS answer that changes
between check and connect cannot redirect it).
"""

import ipaddress
import socket
from dataclasses import dataclass

import httpx

from grader.errors import Rejected

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CallbackRefused(httpx.TransportError):
    """The callback host is, or resolves to, an address the grader may not reach; never retried."""


@dataclass(frozen=True)
class CallbackPolicy:
    """Public unicast addresses, and any address inside one of the allowed networks."""

    allowed_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def from_cidrs(cls, cidrs: list[str]) -> "CallbackPolicy":
        return cls(tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs))

    def permits(self, address: IpAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast


def literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_callback_host(host: str, policy: CallbackPolicy) -> None:
    """At upload: an address literal outside the policy is refused with a reason the LMS admin can act on."""
    address = literal_address(host)
    if address is not None and not policy.permits(address):
        raise Rejected(f"callback_url points at {address}, a private, loopback or link-local address the grader "
                       "does not send scores to (an operator can allow a network with "
                       "GRADER_PASSBACK_ALLOWED_NETWORKS)", code="invalid_callback_url")


def resolve_permitted(host: str, port: int, policy: CallbackPolicy) -> IpAddress:
    """Every address the name resolves to must be permitted, so no answer order can reach a private one."""
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    refused = [str(address) for address in addresses if not policy.permits(address)]
    if refused or not addresses:
        raise CallbackRefused(f"{host} resolves to {', '.join(refused) or 'nothing'}: not a public address "
                              "(GRADER_PASSBACK_ALLOWED_NETWORKS lists the private networks allowed)")
    return addresses[0]


class PinnedTransport(httpx.BaseTransport):
    """Connects to the checked address; Host header and TLS server name stay the callback's own name."""

    def __init__(self, policy: CallbackPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        address = resolve_permitted(host, port, self._policy)
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        request.url = request.url.copy_with(host=str(address))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
