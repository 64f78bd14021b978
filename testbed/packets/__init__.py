"""Packet synthesis: real Ethernet frames and application payloads from byte templates, and a
streaming pcapng writer that labels every frame.

Addresses are ``bytes`` at this API (6 for a MAC, 4 for an IPv4 address); ``mac_bytes``/``ip_bytes``
convert from text. Frame builders return complete Ethernet frames; payload builders return the bytes
that go inside UDP or TCP. Nothing here sends anything.
"""

from .arp import ArpSweeper, arp_reply, arp_request
from .checksum import internet_checksum, ones_sum
from .dhcp import DHCP_CLIENT_PORT, DHCP_SERVER_PORT, dhcp_message
from .dns import (
    DNS_PORT,
    MDNS_ADDR,
    MDNS_PORT,
    dns_query,
    dns_response,
    mdns_announce,
    mdns_query,
    mdns_reverse_query,
    mdns_reverse_response,
    reverse_name,
)
from .ethernet import BROADCAST_MAC, mac_bytes, mac_str, multicast_mac
from .header import Header
from .http import http_request, http_response
from .ip import (
    ACK,
    BROADCAST_IP,
    FIN,
    PSH,
    RST,
    SYN,
    URG,
    ZERO_IP,
    icmp_echo,
    ip_bytes,
    ip_str,
    tcp_frame,
    tcp_syn_options,
    udp_frame,
)
from .netbios import NBNS_PORT, nbns_nbstat_query, nbns_nbstat_response
from .ntp import NTP_PORT, ntp_request, ntp_response
from .pcapng import PcapngWriter
from .ssdp import SSDP_ADDR, SSDP_PORT, ssdp_msearch, ssdp_notify, ssdp_response
from .tcp_session import TcpSession, tcp_connection
from .tls import (
    tls_application_data,
    tls_application_stream,
    tls_application_stream_parts,
    tls_change_cipher_spec,
    tls_client_hello,
    tls_server_hello,
    tls_session_sends,
)

__all__ = [
    "ACK",
    "BROADCAST_IP",
    "BROADCAST_MAC",
    "DHCP_CLIENT_PORT",
    "DHCP_SERVER_PORT",
    "DNS_PORT",
    "FIN",
    "MDNS_ADDR",
    "MDNS_PORT",
    "NBNS_PORT",
    "NTP_PORT",
    "PSH",
    "RST",
    "SSDP_ADDR",
    "SSDP_PORT",
    "SYN",
    "URG",
    "ZERO_IP",
    "ArpSweeper",
    "Header",
    "PcapngWriter",
    "TcpSession",
    "tcp_connection",
    "arp_reply",
    "arp_request",
    "dhcp_message",
    "dns_query",
    "dns_response",
    "http_request",
    "http_response",
    "icmp_echo",
    "internet_checksum",
    "ip_bytes",
    "ip_str",
    "mac_bytes",
    "mac_str",
    "mdns_announce",
    "mdns_query",
    "mdns_reverse_query",
    "mdns_reverse_response",
    "multicast_mac",
    "nbns_nbstat_query",
    "nbns_nbstat_response",
    "ntp_request",
    "ntp_response",
    "ones_sum",
    "reverse_name",
    "ssdp_msearch",
    "ssdp_notify",
    "ssdp_response",
    "tcp_frame",
    "tcp_syn_options",
    "tls_application_data",
    "tls_application_stream",
    "tls_application_stream_parts",
    "tls_change_cipher_spec",
    "tls_client_hello",
    "tls_server_hello",
    "tls_session_sends",
    "udp_frame",
]
