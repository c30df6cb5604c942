"""A hospital system's side of the ITI-8 feed, with PyPI's `hl7` package (0.4.x).

Reads a JSON array of HL7 v2 messages (segments separated by CR) on standard input, sends each
over MLLP with hl7.client.MLLPClient to HOST PORT, parses every acknowledgement with hl7.parse,
and prints a JSON array with, per message: MSA-1, MSA-2, MSA-3, ERR-2, ERR-3.1, the ACK's
MSH-9 and the raw acknowledgement.
"""

import json
import sys

import hl7
import hl7.client

START, END = b"\x0b", b"\x1c\x0d"


def field(segment, number):
    try:
        return str(segment[number])
    except (IndexError, KeyError):
        return ""


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    messages = json.load(sys.stdin)
    results = []
    with hl7.client.MLLPClient(host, port) as client:
        for message in messages:
            raw = client.send_message(message)
            # The whole frame arrives in one read for acknowledgements this small.
            text = raw.decode("utf-8").strip()
            if text.startswith(START.decode()):
                text = text[1:]
            text = text.rstrip("\x1c\r")
            ack = hl7.parse(text)
            msa = ack.segment("MSA")
            try:
                err = ack.segment("ERR")
            except KeyError:
                err = None
            results.append(
                {
                    "msa1": field(msa, 1),
                    "msa2": field(msa, 2),
                    "msa3": field(msa, 3),
                    "err_location": field(err, 2) if err else "",
                    "err_code": str(err[3][0][0]) if err and field(err, 3) else "",
                    "type": field(ack.segment("MSH"), 9),
                    "raw": text,
                }
            )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
