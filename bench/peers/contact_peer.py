#!/usr/bin/python3
"""contact_peer: the Python service a team would write instead of contactgate.

A single-threaded confluent-kafka consumer/producer that applies contactgate's four rules
(README "Rules") to contact upsert payloads, a batch at a time, at least once:
consume up to 500 messages, validate, produce every verdict, flush, commit synchronously.

    contact_peer.py --brokers HOST:PORT [--group G] [--input T] [--accepted T] [--rejected T]
                    [--max-records N] [--idle-exit S] [--processes N] [--postal-table TSV]
    contact_peer.py validate [FILE|-] [--postal-table TSV]   # offline: NDJSON in, verdicts out

Run it with /usr/bin/python3 (Debian's python3-confluent-kafka and python3-phonenumbers).
"""

import argparse
import json
import os
import re
import signal
import sys
import time

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

ERROR_CODE = 30647
ERROR_MESSAGE = "Failed to Upsert Contact"
MAX_PAYLOAD_BYTES = 1_000_000
MAX_CONTACTS = 10_000
BATCH = 500
ISO_JSON = "/usr/share/iso-codes/json/iso_3166-1.json"
DEFAULT_POSTAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "validate", "data",
                              "postal_codes.tsv")

# ---------------------------------------------------------------------------------------
# Reference data


def load_countries(path=ISO_JSON):
    with open(path, encoding="utf-8") as f:
        return frozenset(entry["alpha_2"] for entry in json.load(f)["3166-1"])


def _ascii_digits(pattern):
    """RE2's \\d is ASCII only; Python's (str patterns) is any Unicode digit."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(("0-9" if in_class else "[0-9]") if nxt == "d" else ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def load_postal(path):
    """country -> compiled pattern, or None when the country has no postal codes."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line or line.startswith("#"):
                continue
            code, has, pattern, example = line.split("\t")
            table[code] = re.compile(_ascii_digits(pattern), re.IGNORECASE) if has == "yes" else None
    return table


# ---------------------------------------------------------------------------------------
# Rules

HEX32 = re.compile(r"[0-9a-fA-F]{32}")
UUID36 = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
E164 = re.compile(r"\+[1-9][0-9]{0,14}")
ASCII_SPACE = " \t\n\r\f\v"

PARSE_ERRORS = {
    NumberParseException.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    NumberParseException.NOT_A_NUMBER: "TOO_SHORT",
    NumberParseException.TOO_SHORT_AFTER_IDD: "TOO_SHORT",
    NumberParseException.TOO_SHORT_NSN: "TOO_SHORT",
    NumberParseException.TOO_LONG: "TOO_LONG",
}
POSSIBLE = {
    ValidationResult.IS_POSSIBLE: "NOT_VALID",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "IS_POSSIBLE_LOCAL_ONLY",
    ValidationResult.INVALID_COUNTRY_CODE: "INVALID_COUNTRY_CODE",
    ValidationResult.TOO_SHORT: "TOO_SHORT",
    ValidationResult.INVALID_LENGTH: "INVALID_LENGTH",
    ValidationResult.TOO_LONG: "TOO_LONG",
}

_MISSING = object()


def _reason(code, field, detail):
    return {"code": code, "field": field, "detail": detail}


class Validator:
    def __init__(self, postal_path=DEFAULT_POSTAL):
        self.countries = load_countries()
        self.postal = load_postal(postal_path)

    @staticmethod
    def correlation_id(v):
        if v is _MISSING:
            return "MISSING"
        if not isinstance(v, str):
            return "WRONG_TYPE"
        if HEX32.fullmatch(v):
            return None
        if UUID36.fullmatch(v):
            return "HYPHENATED"
        return "NOT_HEX" if len(v) == 32 else "WRONG_LENGTH"

    def country(self, v):
        if v is _MISSING:
            return "MISSING"
        if not isinstance(v, str):
            return "WRONG_TYPE"
        if v in self.countries:
            return None
        if len(v) == 2 and v.isascii() and v.upper() in self.countries:
            return "NOT_UPPERCASE"
        return "NOT_ASSIGNED"

    @staticmethod
    def contact_id(v):
        if v is _MISSING:
            return "MISSING"
        if not isinstance(v, str):
            return "WRONG_TYPE"
        if not E164.fullmatch(v):
            return "NOT_E164"
        try:
            n = phonenumbers.parse(v, None)
        except NumberParseException as e:
            return PARSE_ERRORS.get(e.error_type, "NOT_VALID")
        if phonenumbers.is_valid_number(n):
            return None
        return POSSIBLE.get(phonenumbers.is_possible_number_with_reason(n), "NOT_VALID")

    def zip_code(self, v, country, country_ok):
        if v is _MISSING:
            return None
        if not isinstance(v, str):
            return "WRONG_TYPE"
        if not country_ok:
            return None
        z = v.strip(ASCII_SPACE)
        if not z:
            return None
        if country not in self.postal:
            return None
        pattern = self.postal[country]
        if pattern is None:
            return "COUNTRY_HAS_NO_POSTAL_CODES"
        return None if pattern.fullmatch(z) else "FORMAT_MISMATCH"

    def contact(self, c):
        """The reasons of one contact, in the README's fixed order."""
        reasons = []
        d = self.correlation_id(c.get("correlation_id", _MISSING))
        if d:
            reasons.append(_reason("INVALID_CORRELATION_ID", "correlation_id", d))
        country = c.get("country_iso_code", _MISSING)
        d = self.country(country)
        if d:
            reasons.append(_reason("INVALID_COUNTRY_ISO_CODE", "country_iso_code", d))
        country_ok = d is None
        d = self.contact_id(c.get("contact_id", _MISSING))
        if d:
            reasons.append(_reason("INVALID_CONTACT_ID", "contact_id", d))
        d = self.zip_code(c.get("zip_code", _MISSING), country, country_ok)
        if d:
            reasons.append(_reason("INVALID_ZIP_CODE", "zip_code", d))
        return reasons

    def payload(self, value):
        """bytes -> (malformed_detail, None) or (None, [(contact, reasons), ...])."""
        if value is None or len(value) == 0:
            return "EMPTY_PAYLOAD", None
        if len(value) > MAX_PAYLOAD_BYTES:
            return "TOO_LARGE", None
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return "INVALID_UTF8", None
        if text.startswith("\ufeff"):
            text = text[1:]
        if not text.strip(" \t\n\r"):
            return "EMPTY_PAYLOAD", None
        try:
            root = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            return "TOO_DEEP", None
        except ValueError:
            return "INVALID_JSON", None
        if isinstance(root, dict):
            if "contacts" in root:
                contacts = root["contacts"]
                if not isinstance(contacts, list):
                    return "CONTACTS_NOT_ARRAY", None
            else:
                contacts = [root]
        elif isinstance(root, list):
            contacts = root
        else:
            return "ROOT_NOT_CONTAINER", None
        if not contacts:
            return "NO_CONTACTS", None
        if len(contacts) > MAX_CONTACTS:
            return "TOO_MANY_CONTACTS", None
        if not all(isinstance(c, dict) for c in contacts):
            return "ELEMENT_NOT_OBJECT", None
        results = [(c, self.contact(c)) for c in contacts]
        if len(results) > 1:  # DUPLICATE_IN_REQUEST: second and later well-formed equal ids
            first = {}
            for i, (c, reasons) in enumerate(results):
                cid = c.get("correlation_id")
                if not isinstance(cid, str) or (reasons and reasons[0]["code"] == "INVALID_CORRELATION_ID"):
                    continue
                k = cid.lower()
                if k in first:
                    reasons.insert(0, _reason("INVALID_CORRELATION_ID", "correlation_id", "DUPLICATE_IN_REQUEST"))
                else:
                    first[k] = i
        return None, results


def _reject_constant(name):  # NaN, Infinity, -Infinity are not JSON
    raise ValueError("not JSON: " + name)


# ---------------------------------------------------------------------------------------
# Offline mode: NDJSON -> one verdict line per contact (for comparison with `contactgate validate`)


def offline(args):
    v = Validator(args.postal_table)
    src = sys.stdin.buffer if args.file in (None, "-") else open(args.file, "rb")
    out = sys.stdout
    for line_no, raw in enumerate(src, 1):
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        malformed, results = v.payload(raw)
        if malformed:
            out.write(json.dumps({"line": line_no, "index": None, "correlation_id": None, "status": "rejected",
                                  "reasons": [_reason("MALFORMED_PAYLOAD", None, malformed)]}) + "\n")
            continue
        for i, (c, reasons) in enumerate(results):
            cid = c.get("correlation_id")
            out.write(json.dumps({"line": line_no, "index": i, "correlation_id": cid if isinstance(cid, str) else None,
                                  "status": "rejected" if reasons else "accepted", "reasons": reasons}) + "\n")
    return 0


# ---------------------------------------------------------------------------------------
# Kafka service


def worker(args, shared=None, report_queue=None):
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

    validator = Validator(args.postal_table)
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
    })
    delivery_errors = []

    def on_delivery(err, msg):
        if err is not None:
            delivery_errors.append(err)

    producer = Producer({
        "bootstrap.servers": args.brokers,
        "enable.idempotence": True,
        "linger.ms": 5,
        "delivery.report.only.error": True,
        "on_delivery": on_delivery,
    })
    produce = producer.produce

    def send(topic, value, key):
        while True:
            try:
                produce(topic, value, key)
                return
            except BufferError:  # local queue full: serve delivery reports, then retry
                producer.poll(0.05)

    # Fetch the output topics' metadata before the first batch (as a service does at start),
    # so the first flush does not wait for metadata or for an auto-created topic's leader.
    for t in (args.accepted, args.rejected):
        for _ in range(20):
            md = producer.list_topics(t, timeout=10).topics.get(t)
            if md is not None and md.error is None and md.partitions:
                break
            time.sleep(0.25)
    consumer.subscribe([args.input])
    n_msgs = n_contacts = n_acc = n_rej = n_malformed = 0
    t_first = t_last = None
    t_idle = time.monotonic()
    accepted_t, rejected_t = args.accepted, args.rejected

    while not stop["now"]:
        want = BATCH
        if args.max_records:
            done = shared.value if shared is not None else n_msgs
            if done >= args.max_records:
                break
            want = min(BATCH, args.max_records - done)
        msgs = consumer.consume(want, 0.5)
        if not msgs:
            if time.monotonic() - t_idle >= args.idle_exit:
                break
            continue
        if t_first is None:
            t_first = time.time()
        commit = {}
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.fatal():
                    raise KafkaException(err)
                print("contact_peer: consumer error: %s" % err, file=sys.stderr)
                continue
            topic, part, off = m.topic(), m.partition(), m.offset()
            commit[(topic, part)] = off + 1
            n_msgs += 1
            key = m.key()
            ts_type, ts = m.timestamp()
            malformed, verdicts = validator.payload(m.value())
            if malformed:
                n_contacts += 1
                n_rej += 1
                n_malformed += 1
                send(rejected_t, json.dumps({
                    "error_code": ERROR_CODE, "error_message": ERROR_MESSAGE, "correlation_id": None,
                    "reasons": [_reason("MALFORMED_PAYLOAD", None, malformed)], "record": None,
                    "source": {"topic": topic, "partition": part, "offset": off, "index": None,
                               "timestamp": ts if ts_type else None}}), key)
                continue
            for i, (c, reasons) in enumerate(verdicts):
                n_contacts += 1
                cid = c.get("correlation_id")
                if not isinstance(cid, str):
                    cid = None
                if not reasons:
                    n_acc += 1
                    send(accepted_t, json.dumps(c), key if key is not None else cid)
                else:
                    n_rej += 1
                    send(rejected_t, json.dumps({
                        "error_code": ERROR_CODE, "error_message": ERROR_MESSAGE, "correlation_id": cid,
                        "reasons": reasons, "record": c,
                        "source": {"topic": topic, "partition": part, "offset": off, "index": i,
                                   "timestamp": ts if ts_type else None}}), key if key is not None else cid)
        remaining = producer.flush(30)
        if remaining or delivery_errors:
            # Nothing committed: the batch is consumed again after a restart (at least once).
            raise SystemExit("contact_peer: %d undelivered, errors: %s" % (remaining, delivery_errors[:3]))
        if commit:
            consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in commit.items()], asynchronous=False)
        t_last = time.time()
        t_idle = time.monotonic()
        if shared is not None:
            with shared.get_lock():
                shared.value += len(msgs)

    consumer.close()
    stats = {"messages": n_msgs, "contacts": n_contacts, "accepted": n_acc, "rejected": n_rej,
             "malformed": n_malformed, "t_first": t_first, "t_last": t_last}
    if report_queue is not None:
        report_queue.put(stats)
    return stats


def report(parts, processes):
    tot = {k: sum(p[k] for p in parts) for k in ("messages", "contacts", "accepted", "rejected", "malformed")}
    firsts = [p["t_first"] for p in parts if p["t_first"] is not None]
    lasts = [p["t_last"] for p in parts if p["t_last"] is not None]
    secs = (max(lasts) - min(firsts)) if firsts and lasts else 0.0
    out = dict(tot)
    out["seconds"] = round(secs, 3)
    out["records_per_s"] = round(tot["messages"] / secs, 1) if secs > 0 else 0.0
    out["contacts_per_s"] = round(tot["contacts"] / secs, 1) if secs > 0 else 0.0
    out["processes"] = processes
    print(json.dumps(out), flush=True)


def serve(args):
    if args.processes <= 1:
        report([worker(args)], 1)
        return 0
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    shared = ctx.Value("q", 0)
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(args, shared, results)) for _ in range(args.processes)]
    for p in procs:
        p.start()
    parts = [results.get() for _ in procs]
    for p in procs:
        p.join()
    report(parts, args.processes)
    return 0 if all(p.exitcode == 0 for p in procs) else 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "validate":
        ap = argparse.ArgumentParser(prog="contact_peer.py validate")
        ap.add_argument("file", nargs="?")
        ap.add_argument("--postal-table", default=DEFAULT_POSTAL)
        return offline(ap.parse_args(argv[1:]))
    ap = argparse.ArgumentParser(prog="contact_peer.py")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--group", default="contact-peer")
    ap.add_argument("--input", default="contacts.upsert")
    ap.add_argument("--accepted", default="contacts.accepted")
    ap.add_argument("--rejected", default="contacts.rejected")
    ap.add_argument("--max-records", type=int, default=0, help="stop after N input messages (0: no limit)")
    ap.add_argument("--idle-exit", type=float, default=10.0, help="stop after S seconds without messages")
    ap.add_argument("--processes", type=int, default=1, help="consumer processes in the same group")
    ap.add_argument("--postal-table", default=DEFAULT_POSTAL)
    return serve(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
