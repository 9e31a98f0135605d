"""The client address behind trusted reverse proxies (``lms.trusted_proxies``).

gunicorn leaves ``REMOTE_ADDR`` at the proxy's address whatever ``X-Forwarded-For``
says; waitress rewrites it only with its own ``trusted_proxy`` settings. This tween,
first in the chain, gives every server waitress' answer: when the connection comes
from a trusted proxy, ``REMOTE_ADDR`` becomes the client address found in
``X-Forwarded-For``, so every reader of the client address (``request.remote_addr``,
:func:`lms.throttle.client_ip`, the tracking log's ``ip``) sees it. The connection's
own address stays in ``environ["lms.peer_addr"]``.

The rule (:func:`client_address`): a peer that is not trusted is the client, and its
``X-Forwarded-For`` is ignored. From a trusted peer, the header is read right to left
(each proxy appends the address it received the request from): trusted addresses
are skipped and the first untrusted one is the client; if every address is trusted,
the left-most one is. The entries left of the client are whatever the client sent,
never believed. An entry that is not a bare IP address (``unknown``, a port, an empty
item) stops the walk: the client is then the last address read before it, which a
trusted proxy vouched for (the peer itself when the right-most entry is malformed),
never a value further left that anyone could have written.
"""
import ipaddress

from pyramid.exceptions import ConfigurationError
from pyramid.tweens import INGRESS

SETTING = "lms.trusted_proxies"
PEER_ADDR = "lms.peer_addr"
FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"


def parse_trusted_proxies(value):
    """``"127.0.0.1 10.0.0.0/8, ::1"`` -> a tuple of networks; a bad item stops start-up."""
    networks = []
    for item in str(value or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError as exc:
            raise ConfigurationError(
                f"{SETTING}: {item!r} is not an IP address or network ({exc})") from None
    return tuple(networks)


def _address(text):
    """An IP address, IPv4-mapped IPv6 ones as IPv4; None when ``text`` is not one."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _is_trusted(address, trusted):
    return any(address in network for network in trusted)


def client_address(peer, forwarded_for, trusted):
    """The client address of a connection from ``peer`` carrying ``forwarded_for``
    (an X-Forwarded-For value or None); ``peer`` itself unless it is trusted."""
    peer_address = _address(peer or "")
    if not trusted or not forwarded_for or peer_address is None \
            or not _is_trusted(peer_address, trusted):
        return peer
    client = peer_address
    for entry in reversed(forwarded_for.split(",")):
        address = _address(entry)
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def trusted_proxies_tween_factory(handler, registry):
    trusted = registry["lms.trusted_proxies"]

    def trusted_proxies_tween(request):
        environ = request.environ
        peer = environ.get("REMOTE_ADDR")
        environ[PEER_ADDR] = peer
        if trusted:
            client = client_address(peer, environ.get(FORWARDED_FOR), trusted)
            if client != peer:
                environ["REMOTE_ADDR"] = client
        return handler(request)

    return trusted_proxies_tween


def includeme(config):
    config.registry["lms.trusted_proxies"] = parse_trusted_proxies(
        config.registry.settings.get(SETTING))
    # Above every other tween (CORS included), so nothing reads the address before.
    config.add_tween("lms.proxies.trusted_proxies_tween_factory", under=INGRESS,
                     over="lms.cors.cors_tween_factory")
