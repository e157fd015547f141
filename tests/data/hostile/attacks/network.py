"""Tries the services on the grader's loopback and the internet; overwriting the test's Redis canary would prove a leak."""
import socket

_CANARY = b"tinytorch-hostile-canary"
_RESP = b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\npwned\r\n" % (len(_CANARY), _CANARY)
for _name, _host, _port in [("redis", "127.0.0.1", 6379), ("postgres", "127.0.0.1", 5432),
                            ("rabbitmq", "127.0.0.1", 5672), ("redis-v6", "::1", 6379),
                            ("internet", "1.1.1.1", 53), ("dns", "example.com", 80)]:
    try:
        with socket.create_connection((_host, _port), timeout=1) as _sock:
            _sock.sendall(_RESP)
            print(f"HOSTILE: {_name} connected")
    except OSError as _exc:
        print(f"HOSTILE: {_name} blocked ({type(_exc).__name__})")
