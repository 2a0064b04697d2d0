"""The browser's CORS preflight for a Cognito call, sent to a running moto server:

    MOTO_VENV/bin/python tests/moto-preflight.py http://127.0.0.1:PORT

Chromium sends exactly this before the web app's sign-in (`POST /` with
`x-amz-target: AWSCognitoIdentityProviderService.*`); if it is not answered 2xx with
Access-Control-Allow-Origin, the page never makes the call ("Cannot reach the sign-in
service"). moto 5.2.6 answers it 500. Exits 1 naming the installed moto's version.
"""

import http.client
import importlib.metadata
import sys
import urllib.parse

ORIGIN = "http://127.0.0.1:8080"


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    version = importlib.metadata.version("moto")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request(
        "OPTIONS",
        "/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
    )
    reply = conn.getresponse()
    reply.read()
    allow = reply.getheader("Access-Control-Allow-Origin")
    if not (200 <= reply.status < 300 and allow in ("*", ORIGIN)):
        sys.exit(
            f"moto {version} does not answer the browser's CORS preflight (OPTIONS / for a Cognito call): "
            f"HTTP {reply.status}, Access-Control-Allow-Origin {allow!r}; the browser journeys that sign in "
            "with Cognito would fail. Pin a moto that does (5.2.5 does) in requirements/moto.in and run make locks."
        )
    print(f"moto {version} answers the browser's CORS preflight: HTTP {reply.status}, Access-Control-Allow-Origin {allow}")


if __name__ == "__main__":
    main()
