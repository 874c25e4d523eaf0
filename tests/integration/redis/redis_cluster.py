"""A private Redis Cluster for the tests and the benchmark: `masters` masters with `replicas`
replicas each, Debian's redis-server on free loopback ports (each port's cluster bus port,
port + 10000, free too), joined by `redis-cli --cluster create ... --cluster-yes`, waited for
(cluster_state:ok on every node, every replica's link up), stopped by PID.

    with RedisCluster() as c:      # 3 masters, 3 replicas
        c.url                      # redis://127.0.0.1:PORT/0, a seed node for greyflux
        c.cli(port, "CLUSTER", "INFO")
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def _bindable(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_cluster_ports(n):
    """n ports p with p and p + 10000 (the cluster bus) both free, p from 20000-22767: below
    the kernel's ephemeral range (32768-), so free_port() of another test never picks one."""
    ports = []
    rng = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(10000):
        p = rng.randrange(20000, 22768)
        if p not in ports and _bindable(p) and _bindable(p + 10000):
            ports.append(p)
            if len(ports) == n:
                return ports
    raise RuntimeError("no free loopback ports for a Redis Cluster")


class RedisCluster:
    def __init__(self, masters=3, replicas=1, node_timeout_ms=1000):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.cli_binary = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        for b in (self.binary, self.cli_binary):
            if not os.access(b, os.X_OK):
                raise SystemExit(f"{b} not found: install the test dependencies "
                                 "(scripts/deps.sh test)")
        self.masters = masters
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.ports = free_cluster_ports(masters * (1 + replicas))
        self.dir = tempfile.mkdtemp(prefix="gf-redis-cluster-")
        self.procs = {}

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def cli(self, port, *args, check=True):
        """One command through redis-cli (no cluster redirects followed); its output."""
        r = subprocess.run([self.cli_binary, "-h", "127.0.0.1", "-p", str(port), *args],
                           capture_output=True, text=True, timeout=20)
        if check and r.returncode != 0:
            raise RuntimeError(f"redis-cli {' '.join(args)} on {port}: {r.stderr.strip()}")
        return r.stdout

    def info(self, port, section):
        out = {}
        for line in self.cli(port, section[0], *section[1:], check=False).splitlines():
            if ":" in line:
                k, v = line.strip().split(":", 1)
                out[k] = v
        return out

    def start_node(self, port):
        d = os.path.join(self.dir, str(port))
        os.makedirs(d, exist_ok=True)
        self.procs[port] = subprocess.Popen(
            [self.binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", d, "--logfile", os.path.join(d, "redis.log"),
             "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
             "--cluster-node-timeout", str(self.node_timeout_ms)])
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli(port, "PING", check=False).strip() == "PONG":
                return
            if self.procs[port].poll() is not None:
                raise RuntimeError(f"redis-server on {port} exited; see {d}/redis.log")
            time.sleep(0.01)
        raise RuntimeError(f"redis-server on {port} did not answer PING")

    def start(self):
        for p in self.ports:
            self.start_node(p)
        r = subprocess.run([self.cli_binary, "--cluster", "create",
                            *[f"127.0.0.1:{p}" for p in self.ports],
                            "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("redis-cli --cluster create failed: " + r.stdout + r.stderr)
        self.wait_healthy()
        return self

    def roles(self):
        """{port: "master" | "slave"} as each node reports it."""
        return {
p: self.info(p, ["INFO", "replication"]).get("role") for p in self.live_ports()}

    def live_ports(self):
        return [p for p in self.ports if self.procs.get(p) and self.procs[p].poll() is None]

    def master_ports(self):
        return [p for p, r in self.roles().items() if r == "master"]

    def replica_ports(self):
        return [p for p, r in self.roles().items() if r == "slave"]

    def wait_healthy(self, timeout=60):
        """Every live node says cluster_state:ok and knows `masters` masters, each replica's link
        to its master is up."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ok = True
            for p in self.live_ports():
                info = self.info(p, ["CLUSTER", "INFO"])
                repl = self.info(p, ["INFO", "replication"])
                if (info.get("cluster_state") != "ok"
                        or info.get("cluster_size") != str(self.masters)
                        or (repl.get("role") == "slave"
                            and repl.get("master_link_status") != "up")):
                    ok = False
                    break
            if ok and len(self.master_ports()) == self.masters:
                return
            time.sleep(0.05)
        raise RuntimeError("the Redis Cluster did not become healthy; logs in " + self.dir)

    def dbsize(self):
        """Keys on all masters."""
        return sum(int(self.cli(p, "DBSIZE").strip()) for p in self.master_ports())

    def stop(self):
        for p, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
