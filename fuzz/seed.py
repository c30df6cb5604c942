#!/usr/bin/env python3
"""Builds the fuzz seed corpora from the shared test data (never committed):
corpus/ebrim: every ebRIM 3.0 / query / retrieve / remove body of the NIST testkit;
corpus/soap_mtom: the same bodies wrapped in a SOAP envelope (selector byte 0), and the
testkit's raw MTOM bodies (selector byte 3, their boundary)."""
import os, pathlib, sys

shared = pathlib.Path(os.environ.get("XDS_SHARED_DIR", pathlib.Path(__file__).resolve().parents[2] / "shared"))
tests = shared / "conformance" / "nist-testkit" / "tests"
here = pathlib.Path(__file__).resolve().parent
ebrim = here / "corpus" / "ebrim"
soap = here / "corpus" / "soap_mtom"
ebrim.mkdir(parents=True, exist_ok=True)
soap.mkdir(parents=True, exist_ok=True)
count = 0
for path in sorted(tests.rglob("*.xml")):
    text = path.read_bytes()
    if b"<TestPlan" in text[:200]:
        continue
    name = str(path.relative_to(tests)).replace("/", "_")
    (ebrim / name).write_bytes(text)
    body = text.split(b"?>", 1)[1] if text.lstrip().startswith(b"<?xml") else text
    envelope = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">'
                b'<s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegisterDocumentSet-b</a:Action></s:Header><s:Body>'
                + body + b"</s:Body></s:Envelope>")
    (soap / name).write_bytes(b"\x00" + envelope)
    count += 1
for path in sorted(tests.rglob("body.txt")):
    if b"MIMEBoundary_95b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d" in path.read_bytes():
        (soap / str(path.relative_to(tests)).replace("/", "_")).write_bytes(b"\x03" + path.read_bytes())
print(f"seeded {count} bodies", file=sys.stderr)
