"""A hospital system's side of the ITI-8 feed, with PyPI's `hl7` package (0.4.x).

Reads HL7 v2 messages (segments separated by CR) on standard input, one after the other,
separated by FS (0x1C); sends each over MLLP with hl7.client.MLLPClient to HOST PORT; parses
every acknowledgement with hl7.parse and prints one line per message, tab-separated:
MSA-1, MSA-2, MSA-3, ERR-2, ERR-3.1.
"""

import sys

import hl7
import hl7.client


def field(segment, number):
    if segment is None:
        return ""
    try:
        return str(segment[number])
    except (IndexError, KeyError):
        return ""


def clean(text):
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # Bytes, not text: text mode would turn the CR segment separators into LF.
    messages = [text for text in sys.stdin.buffer.read().decode("utf-8").split("\x1c") if text]
    with hl7.client.MLLPClient(host, port) as client:
        for message in messages:
            raw = client.send_message(message)
            # Acknowledgements this small arrive whole in one read.
            text = raw.decode("utf-8").strip().lstrip("\x0b").rstrip("\x1c\r")
            ack = hl7.parse(text)
            msa = ack.segment("MSA")
            try:
                err = ack.segment("ERR")
            except KeyError:
                err = None
            code = str(err[3][0][0]) if field(err, 3) else ""
            values = [field(msa, 1), field(msa, 2), field(msa, 3), field(err, 2), code]
            print("\t".join(clean(value) for value in values))


if __name__ == "__main__":
    main()
