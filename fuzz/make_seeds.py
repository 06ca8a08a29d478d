#!/usr/bin/env python3
"""Writes the seed_* files of the fuzz corpora that are not written by
cbx_gen_spec_vectors (the envelope and directory seeds are), from
spec/vectors and node/config_test.cc's example. Run from the repository root:

    python3 fuzz/make_seeds.py

Deterministic: running it again rewrites the same files.
"""
import hashlib
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
VECTORS = os.path.join(ROOT, "spec", "vectors")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


TYPES = ["", "telegram_user_id", "telegram_username", "telegram_chat",
         "phone", "email", "platform_handle", "content_sha256"]


def identifiers():
    vectors = load("identifiers.json")["identifiers"]
    for i, v in enumerate(vectors):
        t = TYPES.index(v["type"]) if v["type"] in TYPES else 8
        write("identifiers_fuzz", "%03d" % i,
              bytes([t]) + v["input"].encode("utf-8"))


def test_seed(label):
    return hashlib.sha256(b"cbx test seed\x00" + label.encode()).digest()


def key_files():
    node = test_seed("MK/node/1").hex()
    write("key_file_fuzz", "node", node + "\n")
    write("key_file_fuzz", "no_newline", node)
    write("key_file_fuzz", "upper", node.upper() + "\n")
    write("key_file_fuzz", "crlf", node + "\r\n")
    write("key_file_fuzz", "spaces", "  " + node + "\n\n")
    write("key_file_fuzz", "short", node[:62] + "\n")
    write("key_file_fuzz", "odd", node[:63] + "\n")
    write("key_file_fuzz", "zero", "00" * 32 + "\n")
    write("key_file_fuzz", "order",  # the P-256 group order: not a scalar
          "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551\n")
    write("key_file_fuzz", "empty", "")


CONFIG = """{
  "member": "MK",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:7101",
  "office_listen": "127.0.0.1:7201",
  "tls": {"certificate": "node.crt", "private_key": "node.key",
          "office_ca": "/etc/cbx/ca.crt"},
  "keys": {"node_signing_key": "node-signing.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "../genesis.pb"},
  "sync": {"index_interval_ms": 500}
}"""


def configs():
    write("config_json_fuzz", "good", CONFIG)
    full = json.loads(CONFIG)
    full["admin_listen"] = "[::1]:7301"
    full["sync"]["directory_interval_ms"] = 10000
    full["audit"] = {"checkpoint_interval_ms": 30000,
                     "witness_interval_ms": 5000,
                     "checkpoint_every_entries": 100000}
    write("config_json_fuzz", "full", json.dumps(full, indent=1))
    bad = json.loads(CONFIG)
    bad["peer_listen"] = "127.0.0.1:99999"
    write("config_json_fuzz", "bad_port", json.dumps(bad))
    write("config_json_fuzz", "not_object", "[1, 2, 3]")


def notes():
    audit = load("audit.json")
    exports = [load("audit-export-mk.json"), load("audit-export-rs.json")]
    checkpoint = audit["checkpoint"]
    text = checkpoint[:checkpoint.index("\n\n") + 1]
    write("note_parse_fuzz", "checkpoint_note", checkpoint)
    write("note_parse_fuzz", "checkpoint_text", text)
    write("note_parse_fuzz", "verifier_key", audit["verifier_key"])
    for i, e in enumerate(exports):
        write("note_parse_fuzz", "witnessed_%d" % i, e["checkpoint"])
    write("checkpoint_verify_fuzz", "unwitnessed", checkpoint)
    write("checkpoint_verify_fuzz", "text", text)
    for i, e in enumerate(exports):
        write("checkpoint_verify_fuzz", "witnessed_%d" % i, e["checkpoint"])


def exports():
    for name in ["mk", "rs"]:
        with open(os.path.join(VECTORS, "audit-export-%s.json" % name),
                  "rb") as f:
            write("audit_export_fuzz", name, f.read())
    # A small one: no directory versions (the genesis alone), two entries.
    e = load("audit-export-mk.json")
    e["directory_versions"] = []
    e["entries"] = e["entries"][:2]
    write("audit_export_fuzz", "mk_small", json.dumps(e, indent=1))


# Protobuf wire encoding, enough for IndexPart.
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def vfield(num, value):
    return varint(num << 3) + varint(value)


def record(part):
    return struct.pack(">H", len(part)) + part


def index_parts():
    tags = sorted({int.from_bytes(hashlib.sha256(b"tag%d" % i).digest()[:8],
                                  "big") for i in range(40)})
    packed = b"".join(t.to_bytes(8, "big") for t in tags)
    digest = hashlib.sha256(packed).digest()
    # IndexManifest: member=1, oprf_epoch=2, version=3, count=4, digest=5,
    # full=6, from_version=7; Message.index_manifest = 15; Envelope.body = 1;
    # IndexPart.manifest = 1, .chunk = 2; IndexChunk.added_tags = 1,
    # .removed_tags = 2.
    manifest = (field(1, b"MK") + vfield(2, 1) + vfield(3, 3) +
                vfield(4, len(tags)) + field(5, digest) + vfield(6, 1))
    envelope = field(1, field(15, manifest)) + field(2, b"\x01" * 8) + \
        field(3, b"\x02" * 64)
    first = record(field(1, envelope))
    chunk1 = record(field(2, field(1, packed[:160])))
    chunk2 = record(field(2, field(1, packed[160:])))
    write("index_parts_fuzz", "full", first + chunk1 + chunk2)
    delta = (field(1, b"MK") + vfield(2, 1) + vfield(3, 4) +
             vfield(4, len(tags) - 1) + field(5, digest) + vfield(7, 3))
    envelope = field(1, field(15, delta))
    write("index_parts_fuzz", "delta",
          record(field(1, envelope)) +
          record(field(2, field(1, packed[:8]) + field(2, packed[8:16]))))
    write("index_parts_fuzz", "ragged",
          first + record(field(2, field(1, packed[:13]))))


def h2_frames():
    """What an HTTP/2 client sends a TLS front (node/h2_frames.h): a first
    byte choosing the slicing, then the client's bytes."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def frame(kind, stream, payload, flags=0):
        return (len(payload).to_bytes(3, "big") + bytes([kind, flags]) +
                stream.to_bytes(4, "big") + payload)

    settings = frame(4, 0, b"\x00\x03\x00\x00\x00\x64")
    streams = b""
    for sid in range(1, 40, 2):
        streams += frame(1, sid, b"\x83\x87" + b"h" * 20, flags=4)
        streams += frame(3, sid, b"\x00\x00\x00\x08")
    write("h2_frames_fuzz", "reset_flood", b"\x07" + preface + settings +
          streams)
    write("h2_frames_fuzz", "call", b"\x00" + preface + settings +
          frame(1, 1, b"\x83\x87" + b"h" * 30, flags=4) +
          frame(0, 1, b"\x00\x00\x00\x00\x05hello", flags=1) +
          frame(8, 0, b"\x00\x01\x00\x00") + frame(6, 0, b"p" * 8))
    write("h2_frames_fuzz", "preface_only", b"\x3f" + preface)
    write("h2_frames_fuzz", "not_settings_first",
          b"\x01" + preface + frame(3, 1, b"\x00" * 4))
    write("h2_frames_fuzz", "http1", b"\x05GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    write("h2_frames_fuzz", "cut_payload",
          b"\x02" + preface + settings + frame(0, 1, b"d" * 100)[:50])


if __name__ == "__main__":
    identifiers()
    key_files()
    configs()
    notes()
    exports()
    index_parts()
    h2_frames()
