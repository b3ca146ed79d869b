"""Publishes DNS records in nicsrs-sandbox, as a DNS provider would.

Reads the records from DNS_RECORDS (the JSON of a renewal's dns_records)
and posts each to SANDBOX_URL/sandbox/dns. DNS_VALUE_OVERRIDE, when set,
replaces every value (to see what a wrong record does).
"""

import json
import os
import sys
import urllib.request


def main() -> int:
    base = os.environ["SANDBOX_URL"].rstrip("/")
    records = json.loads(os.environ["DNS_RECORDS"])
    override = os.environ.get("DNS_VALUE_OVERRIDE", "")
    for key, record in sorted(records.items()):
        body = {
            "name": record["name"],
            "type": record["type"],
            "value": override or record["value"],
        }
        request = urllib.request.Request(
            base + "/sandbox/dns",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        state = "published" if answer.get("accepted") else "published (does not match: %s)" % answer.get("reason")
        print("%s: %s %s -> %s %s" % (key, body["type"], body["name"], body["value"], state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
