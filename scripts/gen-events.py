#!/usr/bin/env python3
"""Regenerates events/ingest/*.json (API Gateway HTTP API v2 events) and
events/conversation/*.json (SQS events) from events/payloads/, and the events of the outbound,
handoff and SLA functions: events/sender/*.json (SQS FIFO batches of send requests),
events/handoff/*.json (EventBridge deliveries of handoff.requested on SQS) and
events/sla-sweeper/*.json (the EventBridge schedule).

Signed fixtures use the documented demo app secret, the one `switchboard serve` and the
function tests use. The file name starts with the status the ingest function must answer
(or `partial-` for an SQS batch that must report failures); the sender, handoff and SLA
fixtures are named after the outcome their function's tests expect.

    scripts/gen-events.py                   every group
    scripts/gen-events.py sender handoff    only these (ingest, conversation, sender, handoff,
                                            sla-sweeper; ingest and conversation go together)"""
import hashlib, hmac, json, pathlib, sys, time

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


def ingest_and_conversation():
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


# --- The outbound, handoff and SLA functions ---------------------------------------------------
# The tests run these against a local stack whose fixed clock reads T0 (2026-11-22T03:00:00Z), with
# phone number 110000000000001 routed to tenant `acme` and the customers below, whose messages the
# tests process first. Conversation ids are the processor's (`process::conversation_id_of` of the
# contact id derived from the first identifier); the tests check they agree.
T0 = 1795316400
TENANT = "acme"
ACCOUNT = "123456789012"
REGION = "us-east-1"
ANA = "15550109999"  # wrote 10 minutes before T0: her 24-hour window is open
BRUNO = "15550108888"  # wrote three days before T0: his window is closed
AGENT = {"kind": "agent", "name": "marta"}


def conversation_id(wa_id: str) -> str:
    return "cv_" + hashlib.sha256(f"{TENANT}\0wa:{wa_id}".encode()).hexdigest()[:24]


def iso(t: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def sqs_record(message_id, body, queue, sent_at, receive_count=1, sender="AIDAIENQZJOLO23YVJ4VO", fifo=None):
    """One record as Lambda's SQS event source hands it over. `fifo` = (group, dedup id, sequence)."""
    attrs = {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": str(sent_at * 1000)}
    if fifo:
        attrs["SequenceNumber"] = str(fifo[2])
        attrs["MessageGroupId"] = fifo[0]
    attrs["SenderId"] = sender
    if fifo:
        attrs["MessageDeduplicationId"] = fifo[1]
    attrs["ApproximateFirstReceiveTimestamp"] = str(sent_at * 1000 + 37)
    return {
        "messageId": message_id,
        "receiptHandle": "AQEB" + hashlib.sha256(f"{message_id}\0{receive_count}".encode()).hexdigest()[:48],
        "body": body,
        "attributes": attrs,
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def send_request(key, wa_id, content, requested_at, in_reply_to=None):
    """A `core::outbound::SendRequest` exactly as `Outbound::request` queues it (serde's order)."""
    req = {"tenant": TENANT, "conversation_id": conversation_id(wa_id), "idempotency_key": key,
           "origin": AGENT, "content": content}
    if in_reply_to:
        req["in_reply_to"] = in_reply_to
    req["requested_at"] = requested_at
    return compact(req)


def text(body):
    return {"type": "text", "body": body, "preview_url": False}


def outbound_record(n, body, sent_at, receive_count=1):
    """A record of the conversational outbound queue: group = conversation, dedup id = sha256 of
    the idempotency key (`outbound::enqueue`)."""
    req = json.loads(body)
    fifo = (req["conversation_id"], hashlib.sha256(req["idempotency_key"].encode()).hexdigest(),
            18849496460467700000 + n)
    return sqs_record(f"3c3d3e3f-0000-4000-8000-{n:012d}", body, "switchboard-outbound.fifo",
                      sent_at, receive_count, fifo=fifo)


def sender():
    out = EV / "sender"
    for old in out.glob("*.json"):
        old.unlink()
    reply = send_request("marta-reply-ana-1", ANA, text(
        "Hi Ana, order #4471 left our warehouse this morning. It should reach you on Tuesday."),
        T0 - 5, in_reply_to="wamid.OUTBOUNDFIXTURE1")
    write(out / "sent-agent-reply.json", {"Records": [outbound_record(1, reply, T0 - 4)]})
    # The same request queued again after SQS's 5-minute deduplication window (an outbox flush
    # retried late): the sender itself must send it once.
    write(out / "duplicate-already-sent.json", {"Records": [outbound_record(2, reply, T0 + 360)]})
    closed = send_request("marta-reply-bruno-1", BRUNO, text(
        "Hi Bruno, the blue mug is back in stock. Shall I reserve one for you?"), T0 - 5)
    write(out / "refused-window-closed.json", {"Records": [outbound_record(3, closed, T0 - 4)]})
    # `components` is a serde_json::Value in the request, whose objects serialise with sorted keys.
    components = json.loads(json.dumps([{"type": "body", "parameters": [
        {"type": "text", "text": "Bruno"}, {"type": "text", "text": "5120"}]}], sort_keys=True))
    template = {"type": "template", "name": "order_shipped", "language": "en_US", "components": components}
    opted_in = send_request("marta-template-bruno-1", BRUNO, template, T0 - 5)
    write(out / "sent-template-with-opt-in.json", {"Records": [outbound_record(4, opted_in, T0 - 4)]})
    no_opt_in = send_request("marta-template-bruno-2", BRUNO, template, T0 - 5)
    write(out / "refused-no-opt-in-template.json", {"Records": [outbound_record(5, no_opt_in, T0 - 4)]})
    # Two replies in one conversation (one message group): Meta answers the first with 130429, so
    # the first goes back with its backoff and the second, untried, right behind it.
    first = send_request("marta-reply-ana-2", ANA, text("Let me check with the warehouse."), T0 - 8)
    second = send_request("marta-reply-ana-3", ANA, text(
        "Found it: your order ships tomorrow morning."), T0 - 6)
    write(out / "partial-retry-then-rest.json",
          {"Records": [outbound_record(6, first, T0 - 7), outbound_record(7, second, T0 - 5)]})


def eventbridge_delivery(event_id, detail_type, at, detail):
    """The body an EventBridge rule with an SQS target delivers (`ports::bus::as_delivered`)."""
    return compact({"version": "0", "id": event_id, "detail-type": detail_type, "source": "switchboard",
                    "account": ACCOUNT, "time": iso(at), "region": REGION, "resources": [],
                    "detail": detail})


def handoff_record(n, body, sent_at):
    return sqs_record(f"4a4b4c4d-0000-4000-8000-{n:012d}", body, "switchboard-handoff", sent_at,
                      sender="AIDAEVENTBRIDGE")


def handoff():
    out = EV / "handoff"
    for old in out.glob("*.json"):
        old.unlink()
    # Triage's request for Ana's "I was charged twice for order #4471, please refund the extra
    # charge" (`triage::writes`: review needed, finance queue, priority).
    billing = {"conversation_id": conversation_id(ANA), "wamid": "wamid.HANDOFFFIXTURE1",
               "queue": "finance", "reasons": ["intent:billing_charge requires review"],
               "intent": "billing_charge", "urgency": "priority"}
    body = eventbridge_delivery("6f1d3c52-8a0e-4b1f-9f3e-0c2a5d7e9b11", "handoff.requested", T0 - 1,
                                {"tenant": TENANT, "correlation_id": "msg:wamid.HANDOFFFIXTURE1",
                                 "data": billing})
    write(out / "queued-billing-request.json", {"Records": [handoff_record(1, body, T0)]})
    # Bruno asks for a human again while an agent already owns his conversation.
    human = {"conversation_id": conversation_id(BRUNO), "wamid": "wamid.HANDOFFFIXTURE3",
             "queue": "tier1", "reasons": [], "intent": "talk_to_human", "urgency": "normal"}
    body = eventbridge_delivery("0b9e7a44-3d2c-4e55-8c61-5a8f2e4d7c02", "handoff.requested", T0 - 1,
                                {"tenant": TENANT, "correlation_id": "msg:wamid.HANDOFFFIXTURE3",
                                 "data": human})
    write(out / "skipped-already-assigned.json", {"Records": [handoff_record(2, body, T0)]})
    # A producer that left out the tenant: nothing can be done with it but retry and dead-letter.
    body = eventbridge_delivery("a3c5e7f9-1b2d-4f60-8e9a-7c5b3d1f0e23", "handoff.requested", T0 - 1,
                                {"correlation_id": "msg:wamid.HANDOFFFIXTURE1", "data": billing})
    write(out / "failed-no-tenant.json", {"Records": [handoff_record(3, body, T0)]})


def sla_sweeper():
    out = EV / "sla-sweeper"
    for old in out.glob("*.json"):
        old.unlink()
    # What Lambda receives from the `rate(1 minute)` schedule (template.yaml, SlaSweeperFunction),
    # five minutes after T0.
    write(out / "scheduled-event.json", {
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": ACCOUNT, "time": iso(T0 + 300), "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/switchboard-SlaSweeperFunctionSweep-1Q2W3E4R5T6Y"],
        "detail": {},
    })


GROUPS = {"ingest": ingest_and_conversation, "conversation": ingest_and_conversation,
          "sender": sender, "handoff": handoff, "sla-sweeper": sla_sweeper}


def main(args):
    unknown = [a for a in args if a not in GROUPS]
    if unknown:
        sys.exit(f"unknown group(s) {unknown}; choose from {sorted(GROUPS)}")
    done = []
    for name in args or GROUPS:
        if GROUPS[name] not in done:
            GROUPS[name]()
            done.append(GROUPS[name])


if __name__ == "__main__":
    main(sys.argv[1:])
