#!/usr/bin/env python3
"""Measures, on `switchboard serve`, how long a signed webhook takes to become visible in
GET /api/conversations, against the webhook's own ack latency in the same run (the baseline).

Starts the server itself (the binary given, default target/debug/switchboard) on a free loopback
port with a temporary data dir, posts N messages one at a time and polls until each is listed.
Bounded: N requests, each polled for at most 10 s. Prints a Markdown table row set."""
import hashlib, hmac, json, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

SECRET = b"switchboard-demo-app-secret"
N = int(os.environ.get("N", "50"))
BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/switchboard"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def post(base, body):
    sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/webhook", data=body, method="POST",
                                 headers={"content-type": "application/json", "x-hub-signature-256": sig})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200


def count(base):
    with urllib.request.urlopen(base + "/api/conversations?limit=200") as r:
        items = json.load(r)["items"]
    return sum(i["message_count"] for i in items)


def main():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp()
    env = dict(os.environ, SWITCHBOARD_BIND=f"127.0.0.1:{port}", SWITCHBOARD_DATA_DIR=data, RUST_LOG="warn")
    srv = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz"); break
            except Exception:
                time.sleep(0.1)
        acks, visible = [], []
        for i in range(N):
            msg = {"from": f"1555010{i % 10:04d}", "id": f"wamid.LAT{i}", "timestamp": str(1800000000 + i),
                   "type": "text", "text": {"body": f"latency probe {i}"}}
            body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"phone_number_id": "110000000000001"},
                "contacts": [{"profile": {"name": "Probe"}, "wa_id": msg["from"]}], "messages": [msg]}}]}]}).encode()
            t0 = time.perf_counter()
            post(base, body)
            t1 = time.perf_counter()
            deadline = t1 + 10
            while count(base) < i + 1:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"message {i} not visible after 10 s")
                time.sleep(0.005)
            t2 = time.perf_counter()
            acks.append((t1 - t0) * 1000); visible.append((t2 - t0) * 1000)
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
        print(f"| webhook ack (baseline) | {statistics.median(acks):.1f} ms | {q(acks, .95):.1f} ms | {max(acks):.1f} ms |")
        print(f"| POST → visible in GET /api/conversations | {statistics.median(visible):.1f} ms | {q(visible, .95):.1f} ms | {max(visible):.1f} ms |")
        print(f"| ratio (visible / ack, median) | {statistics.median(visible) / statistics.median(acks):.1f}× | | |")
    finally:
        srv.terminate(); srv.wait()


if __name__ == "__main__":
    main()
