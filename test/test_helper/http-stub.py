"""A tiny HTTP/1.1 server for promrun-push's tests of what a real
Pushgateway cannot be made to do.

usage: http-stub.py DIR MODE [ARG...]
  hang              accept connections and never answer
  status CODE...    answer the n-th request with the n-th CODE (the last one
                    repeats); a CODE may be "429+RETRY" to add Retry-After:
                    RETRY, or "307" (Location: /elsewhere)

It binds 127.0.0.1 on a port the kernel picks, writes the port to DIR/port,
appends each request (request line, headers, body length, arrival time in
seconds since the stub started) to DIR/requests, and keeps the n-th body
in DIR/body-n (from 1).
"""
import os
import socket
import sys
import threading
import time

directory, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(16)
with open(os.path.join(directory, "port.tmp"), "w") as f:
    f.write("%d\n" % server.getsockname()[1])
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
lock = threading.Lock()
count = 0
received = 0
started = time.time()


def log(text):
    with open(os.path.join(directory, "requests"), "a") as f:
        f.write(text)


def log_request(lines, body):
    global received
    with lock:
        received += 1
        log("REQUEST %s\n%s\nBODY %d\nAT %.3f\n" % (
            lines[0], "\n".join(lines[1:]), len(body), time.time() - started))
        with open(os.path.join(directory, "body-%d" % received), "wb") as f:
            f.write(body)


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return lines, body


def answer(conn):
    global count
    got = read_request(conn)
    if got is None:
        return
    log_request(*got)
    with lock:
        n = count
        count += 1
    code = args[min(n, len(args) - 1)]
    extra = ""
    if "+" in code:
        code, retry = code.split("+")
        extra = "Retry-After: %s\r\n" % retry
    if code.startswith("3"):
        extra += "Location: /elsewhere\r\n"
    text = b"stub answer %s\n" % code.encode()
    conn.sendall(("HTTP/1.1 %s Stub\r\nContent-Length: %d\r\n%s"
                  "Connection: close\r\n\r\n" % (code, len(text), extra)).encode() + text)


def serve(conn):
    try:
        if mode == "hang":
            got = read_request(conn)
            if got is not None:
                log_request(*got)
                time.sleep(3600)
        else:
            answer(conn)
    finally:
        conn.close()


while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
