#!/usr/bin/env python3
"""Writes the committed seed corpora (tests/fuzz/corpus/<target>/).

The seeds are small, hand-made inputs that reach each harness's main paths;
libFuzzer grows its own corpus from them in a scratch directory (see
scripts/fuzz.sh). Re-run after changing a harness's input layout:
    python3 tests/fuzz/make_seeds.py
"""
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(seq, payload):
    crc = zlib.crc32(payload, zlib.crc32(struct.pack("<Q", seq))) & 0xFFFFFFFF
    return struct.pack("<IIQI", 0x314A5054, len(payload), seq, crc) + payload


def s(b):
    return struct.pack("<I", len(b)) + b


def unit(source, cursor, received, records, rejects):
    out = b"\x01" + s(source) + s(cursor) + struct.pack("<q", received) + struct.pack("<I", len(records))
    for rid, typ, key, ts, data, meta in records:
        out += s(rid) + s(typ) + s(key) + struct.pack("<q", ts) + s(data) + s(meta)
    out += struct.pack("<I", len(rejects))
    for raw, reason, loc in rejects:
        out += s(raw) + s(reason) + s(loc)
    return out


def journal():
    put("fuzz_journal_frame", "empty_payload", struct.pack("<QBIII", 1, 0, 0, 0, 1))
    put("fuzz_journal_frame", "record", struct.pack("<QBIII", 42, 7, 123, 456, 0xFFFFFFFF) + b'{"email":"a@b.de"}')
    put("fuzz_journal_frame", "header_like", frame(7, b"payload"))

    u1 = unit(b"web-signups", b"", 1700000000000,
              [(b"s-1", b"profile", b"C-1001", 1700000000123, b'{"email":"a@b.de"}', b"")], [])
    u2 = unit(b"callcenter-contacts", b'{"file":"export.csv","offset":120,"line":3}', 1700000000000,
              [(b"csv:1:2", b"profile", b"K-77", 0, b'{"phone":"+49 30 1234567"}', b'{"file":"export.csv","line":2}'),
               (b"csv:1:3", b"profile", b"", 0, b"{}", b"")],
              [(b"K-78;broken", b"expected 7 columns, found 2", b"export.csv:3")])
    put("fuzz_unit_codec", "one_record", u1)
    put("fuzz_unit_codec", "records_and_rejects", u2)
    put("fuzz_unit_codec", "empty_unit", unit(b"", b"", 0, [], []))
    put("fuzz_unit_codec", "truncated", u2[:-5])
    put("fuzz_unit_codec", "bad_count", b"\x01" + s(b"x") + s(b"") + struct.pack("<q", 0) + b"\xff\xff\xff\xff")

    seg = frame(1, u1) + frame(2, u2) + frame(3, b"")
    put("fuzz_segment_scanner", "raw_three_frames", b"\x00" + seg)
    put("fuzz_segment_scanner", "raw_torn_tail", b"\x00" + seg[:-3] + frame(4, b"tail")[:30])
    bad = bytearray(seg)
    bad[25] ^= 0x10
    put("fuzz_segment_scanner", "raw_flipped", b"\x00" + bytes(bad))
    put("fuzz_segment_scanner", "raw_bad_magic", b"\x00" + b"XXXX" + seg[4:])
    # Built mode: frame count, seq base, per frame (big?, payload), damage, where, first, use_max, tail.
    put("fuzz_segment_scanner", "built_plain", b"\x01\x03\x10\x00\x00\x00\x01\x05hello\x01\x00\x01\x03abc\x00\x00")
    put("fuzz_segment_scanner", "built_truncated", b"\x01\x04\x20\x00\x00\x00\x02\x10payload-payload-\x01\x05\x02"
        b"\x08abcdefgh\x01\x00\x02\x01\x37\x00\x00\x00\x00\x00\x00\x00\x00\x01")
    put("fuzz_segment_scanner", "built_big", b"\x01\x02\x00\x00\x00\x01\x01\x00\xff\xff\x41\x02\x04tail\x00\x01\x00")


def webhook():
    bodies = {
        "object": '{"id":"s-1","email":"Jane.Doe@Example.com","phone":"0170 1234567","customer_id":"C-1"}',
        "array": '[{"id":"a"}, {"id":7}, {"messageId":"m"}, {}]',
        "ndjson": '{"id":"1","email":"a@b.c"}\n\n{"id":"2","email":"d@e.f"}\r\n{"id":"3"}\n',
        "envelope": '{"id":"e1","type":"profile","key":"c-1","ts":1700000000123,"data":{"email":"a@b.c"},'
                    '"meta":{"ip":"1.2.3.4"}}',
        "envelope_rfc3339": '[{"data":{}}, {"type":"","ts":"2024-01-02T03:04:05.678+01:00","data":{"x":1}},'
                            ' {"ts":null,"data":{}}]',
        "nested": '{"a":{"b":{"c":{"d":[1,[2,[3,{"e":null}]]]}}},"s":"a\\"b\\\\c\\n\\u00e9\\ud83d\\ude00"}',
        "bad_trailing_comma": '{"a":1,}',
        "bad_ndjson_line": '{"id":"ok","data":{}}\n{"id":\n',
        "bad_utf8": '{"name":"M\xfcller"}',
        "numbers": '{"i":-9223372036854775808,"u":18446744073709551615,"f":-1.5e-300,"big":1e308}',
        "not_object": '"just a string"',
        "segment": '{"messageId":"m-1","type":"track","event":"Signed Up","userId":"u-1"}',
    }
    for i, (name, body) in enumerate(bodies.items()):
        opt = bytes([i * 37 & 0xFF, i * 11 & 0xFF])
        put("fuzz_webhook_body", name, opt + body.encode("latin-1"))
    texts = {
        "valid_object": '{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\ud83d\\ude00"]}',
        "valid_array": '[{"a":1}, [2, 3], "s", 4.5, null, {"b":{}}]',
        "truncated": '[{"a":1},{"b":',
        "bad_escape": '{"a":"\\x"}',
        "surrogate": '["\\ud800\\u0041"]',
        "lone_low": '["\\udc00"]',
        "deep": "[" * 70 + "]" * 70,
        "deep_values": "[" * 10 + "1" + "]" * 10,
        "int_range": "[1, 123456789012345678901234567890]",
        "exp_range": "[1e400, -1e400, 1e-400]",
        "control": '{"a":"\x01"}',
        "overlong": '{"a":"\xc0\xaf"}',
    }
    for i, (name, text) in enumerate(texts.items()):
        put("fuzz_json_diagnostics", name, bytes([i & 7]) + text.encode("latin-1"))


def csv():
    data_dir = os.path.join(ROOT, "plugins", "csv", "tests", "data")
    for i, name in enumerate(sorted(os.listdir(data_dir))):
        with open(os.path.join(data_dir, name), "rb") as f:
            content = f.read()
        put("fuzz_csv_reader", name, bytes([(i * 53 + 4) & 0xFF, i * 17 & 0xFF]) + content)
    more = {
        "callcenter.csv": b"Kundennummer;E-Mail;Telefon;Vorname;Nachname;PLZ;Ort\n"
                          b"K-77;anna.schmidt@example.de;+49 30 1234567;Anna;Schmidt;10115;Berlin\n",
        "quotes.csv": b'a,b,c\r\n"x, y","he said ""hi""",3\r\n"multi\nline",  " padded " ,\r\n"ab"c,d\n',
        "unterminated.csv": b'id,name\n1,"open\n2,ok\n3,"also open\n',
        "long_row.csv": b"a,b\n" + b"x" * 200 + b",y\n" + b'"' + b"q\n" * 40 + b'",z\n',
        "tabs.tsv": b"\xef\xbb\xbfid\tname\tcity\n1\t M\xc3\xbcller \tK\xc3\xb6ln\n\n\n2\tx\ty\r",
        "empty_cells.csv": b";;;\n;;;\na;b;c\n;;;\n",
    }
    for i, (name, content) in enumerate(more.items()):
        # Option byte: delimiter auto (3), trim, a max_row_bytes, encodings and mappings vary.
        put("fuzz_csv_reader", name, bytes([(3 | 4 | (i % 4) << 3 | (i % 3) << 5 | (i & 1) << 7) & 0xFF, i]) + content)

    put("fuzz_csv_encoding", "utf8", b"\x00" + "Müller, Köln – 😀 ascii".encode())
    put("fuzz_csv_encoding", "latin1", b"\x01M\xfcller;K\xf6ln;\x80\x81\x8d")
    put("fuzz_csv_encoding", "invalid_utf8", b"\x02ok\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82")
    put("fuzz_csv_encoding", "ascii_long", b"\x03" + b"abcdefghijklmnopqrstuvwxyz0123456789" * 4)
    for i, name in enumerate(["CP437", "windows-1250", "KOI8-R", "SHIFT_JIS", "UTF-16", "ISO-2022-JP", "EBCDIC-US",
                              "no-such-encoding", "latin-1", "UTF8"]):
        put("fuzz_csv_encoding", "name_" + name.lower(), bytes([0x80 | i]) + name.encode() + b"\x00"
            + "caf\u00e9".encode("latin-1") + b"\x81\x82\x93\xe4,;\"\n")


def configs():
    with open(os.path.join(ROOT, "config", "touchpoint.yaml"), "rb") as f:
        put("fuzz_hub_config", "checkout.yaml", f.read())
    put("fuzz_hub_config", "empty.yaml", b"")
    put("fuzz_hub_config", "minimal.yaml", b"data_dir: /var/lib/touchpoint\nlog_level: debug\n")
    put("fuzz_hub_config", "all_keys.yaml", b"""data_dir: data
plugin_dir: /usr/lib/touchpoint/plugins
pipelines_dir: pipelines
log_level: warn
store: { type: sqlite, path: store/touchpoint.db }
journal: { segment_size: 4KiB, max_size: 1GiB, fsync: false }
apply: { batch_records: 100, poll_interval_ms: 50, shutdown_timeout_ms: 0, record_budget_ms: 250 }
sinks:
  retry: { max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 1000, jitter: 0.5 }
admin:
  listen: "[::1]:8079"
  token_file: /run/touchpoint/admin.token
  public_health: false
  tls: { cert_file: cert.pem, key_file: key.pem }
  allow_insecure_remote: false
plugins: { owner: touchpoint, call_timeout_ms: 5000, sha256: { csv: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef } }
""")
    put("fuzz_hub_config", "errors.yaml", b"journal: { segment_size: 1KiB }\nunknown: 1\n")
    put("fuzz_hub_config", "anchors.yaml", b"a: &x { listen: '127.0.0.1:1' }\nadmin: *x\nlog_level: !!str info\n")

    for name in sorted(os.listdir(os.path.join(ROOT, "pipelines"))):
        if not name.endswith(".yaml"):
            continue  # pipelines/scripts/: Lua, not pipeline files
        with open(os.path.join(ROOT, "pipelines", name), "rb") as f:
            put("fuzz_pipeline_config", name, f.read())
    put("fuzz_pipeline_config", "all_transforms.yaml", b"""name: everything
description: every transform kind once
source:
  plugin: webhook
  config: { listen: "127.0.0.1:0", secret: "${env:TP_FUZZ_SECRET}", token: "${file:secret.txt}", dir: "${data_dir}/x" }
  poll_interval_ms: 100
transforms:
  - rename: { mail: email, customer_id: "@key" }
  - set: { channel: web, "@type": profile, address.country: DE }
  - default: { status: active, tags: [a, b] }
  - remove: [password]
  - keep: [email, phone, address, status, channel, tags, age, name]
  - normalize_email: { field: email, on_invalid: remove }
  - normalize_phone: { field: phone, default_region: DE, on_invalid: keep }
  - require: { fields: { email: { type: string, regex: "@" }, status: { enum: [active, 1, null] } } }
  - filter: { field: age, op: ge, value: 18, action: reject }
  - hash: { fields: [email], algorithm: sha512, salt: pepper }
  - mask: { fields: [phone, name], keep_first: 1, keep_last: 2, char: "#" }
store: false
sinks:
  - name: crm
    plugin: http
    config: { url: "https://crm.example/api" }
    retry: { max_attempts: 5, initial_backoff_ms: 100, max_backoff_ms: 2000, jitter: 0 }
    batch_size: 50
  - { name: archive, plugin: file, config: {} }
""")
    put("fuzz_pipeline_config", "bad_step.yaml", b"source: { plugin: csv }\ntransforms:\n  - hash:\n  - nope: {}\n")
    put("fuzz_pipeline_config", "typed_values.yaml", b"""source: { plugin: csv, config: { a: 0x1F, b: 0o17, c: .5, d: ~, e: "1", f: !!str 2 } }
transforms:
  - set: { n: 1e3, i: -0, b: True, s: 'quoted', big: 123456789012345678901234567890 }
  - filter: { field: "@type", op: not_in, value: [a, "b"] }
""")


def transforms():
    # Header byte: (steps - 1) | envelope bits << 2; then one byte per step; then the record.
    records = [
        (b"\x03\x00\x0b\x0e\x12", '{"mail":" Anna.Schmidt@Example.DE ","tel":"030 1234567","age":42,'
                                  '"name":"Anna Schmidt","address":{"city":"Berlin","zip":"10115"}}'),
        (b"\x07\x04\x09\x1c\x1f", '{"email":"x@example.com","phone":"+1 650 253 0000","iban":"DE89370400440532013000",'
                                  '"customer_id":4711,"status":"active"}'),
        (b"\x02\x11\x13\x17", '{"email":"a@b","status":"deleted","country":"DE","a":{"b":[1,2]},"kind":"signup",'
                              '"ref":"r-9","consent":{"email":true,"sms":false}}'),
        (b"\x01\x0d\x1d", " MAX@Example.ORG \n+49 170 1234567\nJürgen Groß\n\n4711\nDE00\nDE\nactive\n17"),
        (b"\x03\x01\x03\x05\x08", '{"name":"n","phone":"0170 1","password":"pw","address":"flat","flags":[1]}'),
        (b"\x00\x1b", '{"name":"Anna Maria Schmidt"}'),
        (b"\x00\x12", '{"email":"anna.schmidt@mail.example.de","age":3.0}'),
        (b"\x02\x10\x14\x18", '{"mobile":"(650) 253-0000","name":"Ab","status":1,"@key":"x"}'),
    ]
    for i, (head, text) in enumerate(records):
        put("fuzz_transforms", "record_%d" % i, head + text.encode())


def segment_api():
    # Option byte: call (low 3 bits: 0 batch, 1 identify, 2 track, 3 page, 4 screen, 5 group, 6 alias), depth,
    # event map, anonymous system, lowered limits (0x80).
    ctx = '"context":{"library":{"name":"@segment/analytics-node","version":"2.2.1"},"ip":"203.0.113.9"}'
    bodies = [
        ("batch", 0x20, '{"batch":[{"type":"identify","userId":"u-1","anonymousId":"a-1","traits":{"email":"A@B.de",'
                        '"name":"Anna","address":{"city":"Köln"}},"messageId":"m-1","timestamp":"2026-12-01T10:00:00Z"},'
                        '{"type":"track","event":"Order Completed","userId":"u-1","properties":{"revenue":49.9,'
                        '"currency":"EUR"},"messageId":"m-2"},{"type":"page","anonymousId":"a-1","name":"Home",'
                        '"properties":{"url":"https://x.example/"}}],' + ctx + ',"sentAt":"2026-12-01T10:00:01Z",'
                        '"writeKey":"wk"}'),
        ("identify", 0x01, '{"userId":"u-9","traits":{"phone":"+49 170 1234567","external_ids":{"x":1}},' + ctx + '}'),
        ("track", 0x22, '{"event":"Signed Up","anonymousId":"a-2","properties":{"plan":"pro"},'
                        '"integrations":{"All":true},"originalTimestamp":"2026-12-01T09:59:59.123+01:00"}'),
        ("page", 0x03, '{"userId":"u-1","name":"Pricing","category":"Docs","properties":{}}'),
        ("screen", 0x04, '{"anonymousId":"a-3","name":"Home"}'),
        ("group", 0x05, '{"userId":"u-1","groupId":"g-1","traits":{"name":"Bank"}}'),
        ("alias", 0x06, '{"userId":"u-1","previousId":"a-1"}'),
        ("small_limits", 0x80, '{"batch":[{"type":"track","event":"e","userId":"u"},{"type":"track","event":"f",'
                               '"userId":"u"},{"type":"track","event":"g","userId":"u"},{"type":"track",'
                               '"event":"h","userId":"u"}]}'),
        ("bad_type", 0x00, '{"batch":[{"type":"explode","userId":"u"}]}'),
        ("no_ids", 0x02, '{"event":"x","properties":{"a":[1,2,{"b":null}]}}'),
        ("wrong_types", 0x01, '{"userId":42,"traits":"not an object","writeKey":7}'),
    ]
    for name, opt, body in bodies:
        put("fuzz_segment_api", name, bytes([opt]) + body.encode())


def json_text():
    seeds = [
        ("profile", '{"email":"anna@example.de","name":"J\u00fcrgen \"J\"","n":-12,"f":1.5e300,"ok":true,'
                    '"tags":["a",null,[]],"addr":{"zip":"10115","city":"K\u00f6ln"}}'),
        ("escapes", '"\\b\\f\\n\\r\\t \\u0001 \\u001f \\u007f \\ud83d\\ude00"'),
        ("numbers", '[0,-0,1e-320,18446744073709551615,-9223372036854775808,0.1,100000000000000000000]'),
    ]
    for name, text in seeds:
        put("fuzz_json_text", name, text)
    # Raw bytes: invalid UTF-8 (a lone continuation, a truncated sequence, an
    # overlong, a surrogate), a NUL splitting key and value, control bytes.
    put("fuzz_json_text", "invalid_utf8", b"ok \x80 \xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 end")
    put("fuzz_json_text", "key_nul_value", b"k\"ey\x00v\x01al\xe2\x82\xac")


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    journal()
    webhook()
    segment_api()
    csv()
    configs()
    transforms()
    json_text()


if __name__ == "__main__":
    main()
