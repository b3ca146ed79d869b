"""Publishes one DNS record in nicsrs-sandbox, as a DNS provider would.

The record comes from RECORD_NAME, RECORD_TYPE and RECORD_VALUE (one entry
of a renewal's dns_records); it is posted to SANDBOX_URL/sandbox/dns, and the
sandbox's answer (whether the record matches what an order expects) is
printed.
"""

import json
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    body = {
        "name": os.environ["RECORD_NAME"],
        "type": os.environ["RECORD_TYPE"],
        "value": os.environ["RECORD_VALUE"],
    }
    request = urllib.request.Request(
        os.environ["SANDBOX_URL"].rstrip("/") + "/sandbox/dns",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        # The sandbox refuses a malformed record with 400 and a JSON reason.
        answer = json.load(error)
    if answer.get("accepted"):
        state = "published, matches the order"
    else:
        state = "published, matches no order: %s" % answer.get("reason")
    print("%s %s -> %s: %s" % (body["type"], body["name"], body["value"], state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
