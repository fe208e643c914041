#!/usr/bin/env python3
"""Regenerates events/ingest/*.json (API Gateway HTTP API v2 events) and
events/conversation/*.json (SQS events) from events/payloads/.

Signed fixtures use the documented demo app secret, the one `switchboard serve` and the
function tests use. The file name starts with the status the ingest function must answer
(or `partial-` for an SQS batch that must report failures)."""
import hashlib, hmac, json, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
EV = ROOT / "events"
SECRET = b"switchboard-demo-app-secret"
VERIFY = "switchboard-demo-verify-token"


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def apigw(method, body=None, query="", headers=None, qs=None):
    h = {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "facebookexternalua"}
    if body is not None:
        h["content-type"] = "application/json"
    h.update(headers or {})
    ev = {
        "version": "2.0",
        "routeKey": f"{method} /webhook",
        "rawPath": "/webhook",
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com", "domainPrefix": "abc123",
            "http": {"method": method, "path": "/webhook", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "facebookexternalua"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": f"{method} /webhook",
            "stage": "$default", "time": "22/Nov/2026:03:00:00 +0000", "timeEpoch": 1795316400000,
        },
        "isBase64Encoded": False,
    }
    if qs:
        ev["queryStringParameters"] = qs
    if body is not None:
        ev["body"] = body.decode()
    return ev


def write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def payload(name) -> bytes:
    # Compact, as Meta sends it; the signature covers exactly these bytes.
    return json.dumps(json.loads((EV / "payloads" / name).read_text()), separators=(",", ":"), ensure_ascii=False).encode()


def main():
    ing = EV / "ingest"
    for old in list(ing.glob("*.json")) + list((EV / "conversation").glob("*.json")):
        old.unlink()
    q = f"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY}"
    write(ing / "200-verify-subscribe.json", apigw("GET", query=q, qs={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY}))
    bad = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong"
    write(ing / "403-verify-wrong-token.json", apigw("GET", query=bad, qs={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong"}))
    text = payload("text.json")
    write(ing / "200-signed-text.json", apigw("POST", text, headers={"x-hub-signature-256": sign(text)}))
    batch = payload("batch-statuses-and-message.json")
    write(ing / "200-batch-statuses-and-message.json", apigw("POST", batch, headers={"x-hub-signature-256": sign(batch)}))
    garbage = b'{"hello":"this is signed but not a WhatsApp payload"}'
    write(ing / "200-signed-garbage.json", apigw("POST", garbage, headers={"x-hub-signature-256": sign(garbage)}))
    write(ing / "401-bad-signature.json", apigw("POST", text, headers={"x-hub-signature-256": sign(text + b" ")}))
    write(ing / "401-missing-signature.json", apigw("POST", text))
    big = b'{"object":"whatsapp_business_account","entry":[],"pad":"' + b"x" * (3 * 1024 * 1024) + b'"}'
    write(ing / "413-oversized.json", apigw("POST", big, headers={"x-hub-signature-256": sign(big)}))

    # SQS events for the conversation function: envelopes as ingest writes them.
    def record(i, body, group):
        return {
            "messageId": f"0f0e0d0c-0000-4000-8000-{i:012d}",
            "receiptHandle": f"AQEB-receipt-{i}",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1", "SentTimestamp": "1795316400000",
                "SequenceNumber": f"{18849496460467696128 + i}", "MessageGroupId": group,
                "SenderId": "AIDAIENQZJOLO23YVJ4VO", "MessageDeduplicationId": f"dedup-{i}",
                "ApproximateFirstReceiveTimestamp": "1795316400001",
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:switchboard-events.fifo",
            "awsRegion": "us-east-1",
        }

    def envelopes(raw: bytes):
        root = json.loads(raw)
        out = []
        for entry in root["entry"]:
            for ch in entry["changes"]:
                v = ch["value"]
                meta = v.get("metadata")
                pn = (meta or {}).get("phone_number_id", "")
                for m in v.get("messages", []):
                    who = m.get("from_user_id") or m.get("from", "")
                    grp = hashlib.sha256(f"conv\0{pn}\0{who}\0".encode()).hexdigest()[:32]
                    ev = {"key": "msg:" + m["id"], "group": grp, "field": ch["field"], "waba_id": entry["id"],
                          "metadata": meta, "received_at": 1795316400, "kind": "message",
                          "contact": (v.get("contacts") or [None])[0], "message": m}
                    out.append((json.dumps({"event": ev}, ensure_ascii=False), grp))
                for s in v.get("statuses", []):
                    who = s.get("recipient_user_id") or s.get("recipient_id", "")
                    grp = hashlib.sha256(f"conv\0{pn}\0{who}\0".encode()).hexdigest()[:32]
                    ev = {"key": f"status:{s['id']}:{s['status']}", "group": grp, "field": ch["field"],
                          "waba_id": entry["id"], "metadata": meta, "received_at": 1795316400,
                          "kind": "status", "status": s}
                    out.append((json.dumps({"event": ev}, ensure_ascii=False), grp))
        return out

    conv = EV / "conversation"
    recs = [record(i, b, g) for i, (b, g) in enumerate(envelopes(text))]
    write(conv / "text-message.json", {"Records": recs})
    recs = [record(i, b, g) for i, (b, g) in enumerate(envelopes(batch))]
    write(conv / "batch-statuses-and-message.json", {"Records": recs})
    recs = [record(i, b, g) for i, (b, g) in enumerate(envelopes(payload("bsuid-only.json")))]
    write(conv / "bsuid-only.json", {"Records": recs})
    good = envelopes(payload("button-reply.json"))[0]
    recs = [record(0, good[0], good[1]), record(1, "this is not an envelope", good[1]), record(2, envelopes(payload("image.json"))[0][0], good[1])]
    write(conv / "partial-corrupt-body.json", {"Records": recs})


if __name__ == "__main__":
    main()
