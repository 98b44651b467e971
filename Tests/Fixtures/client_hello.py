#!/usr/bin/env python3
"""Prints, in hex, the TLS ClientHello a client would send for a server name, so TCP-mode
tests can route on SNI without a TLS server. Usage: client_hello.py SERVER_NAME"""
import ssl, sys

context = ssl.create_default_context()
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = context.wrap_bio(incoming, outgoing, server_hostname=sys.argv[1])
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
print(outgoing.read().hex())
