"""A TCP proxy on a free loopback port in front of a redis-server that can hold every reply for
a while (a slow Redis, or a slow network to it), without serialising pipelined replies: each
chunk is forwarded at its own arrival time + the delay. Commands go through at once.

Run as its own process (so that its threads do not share the test's interpreter lock):
  redis_proxy.py TARGET_PORT LISTEN_PORT DELAY_S
starts with no delay; SIGUSR1 turns the delay on, SIGUSR2 off. ProxyProcess does that."""
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time


class DelayProxy:
    def __init__(self, target_port, port):
        self.target_port = target_port
        self.port = port
        self.delay = 0.0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.closed = False
        self.socks = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.socks += [client, server]
            threading.Thread(target=self.pump, args=(client, server), daemon=True).start()
            held = queue.Queue()
            threading.Thread(target=self.read_held, args=(server, held), daemon=True).start()
            threading.Thread(target=self.write_held, args=(held, client), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def read_held(self, src, held):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                held.put((time.monotonic() + self.delay, data))
        except OSError:
            pass
        held.put((0, None))

    @staticmethod
    def write_held(held, dst):
        try:
            while True:
                due, data = held.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self):
        self.closed = True
        self.listener.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def main():
    target, port, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    proxy = DelayProxy(target, port)
    signal.signal(signal.SIGUSR1, lambda *_: setattr(proxy, "delay", delay))
    signal.signal(signal.SIGUSR2, lambda *_: setattr(proxy, "delay", 0.0))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        # Not signal.pause(): a signal taken by another thread would not wake it, and Python
        # runs handlers on the main thread only.
        time.sleep(0.02)


class ProxyProcess:
    """The proxy above as a child process on a free port, stopped by PID."""

    def __init__(self, target_port, delay_s):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from redis_helpers import free_port  # noqa: E402
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(target_port),
                                      str(self.port), str(delay_s)])
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis proxy did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def slow(self, on):
        self.proc.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


if __name__ == "__main__":
    main()
