#!/usr/bin/env python3
"""Smoke test of a production server (the CI production pass, `.ci/production.sh`).

Standard library only. Talks plain HTTP to gunicorn on 127.0.0.1 and sends
`X-Forwarded-Proto: https`, as the TLS proxy in front of it would (production redirects plain
HTTP and marks its cookies Secure, so the cookies are kept here by hand).

For each demo role: the login page, its CSRF token, the login POST, the second factor (a TOTP
code of the device the pass enrolled, for the roles that require one); every link of the menu the
role sees → 200 (after redirects); the menu entries other roles see but this one does not → 403
in the site's layout. Then static files by their hashed URLs (→ 200, long cache), the API
(`/api/v1/`) and its docs, a 404 page, and an anonymous visit (→ login). On every answer:
Content-Security-Policy without 'unsafe-inline' in script-src, HSTS, and no `Server` header
naming gunicorn or a version; on every page and API answer: `Cache-Control: no-store`.

Prints each check; exits 1 if any failed.

    python3 .ci/production_smoke.py --base-url http://127.0.0.1:8130 [--password Huangping@2020]
        [--users county,township,cadre,cadre2,helper,auditor,sysadmin] [--totp-key HEX]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import re
import ssl
import struct
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

USERS = "county,township,cadre,cadre2,helper,auditor,sysadmin"
NAV = re.compile(r'<nav class="mainnav">(.*?)</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')
ASSET = re.compile(r'(?:<link rel="stylesheet" href|<script src)="(/static/[^"]+)"')
HASHED = re.compile(r"\.[0-9a-f]{12}\.(css|js)$")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SECOND_FACTOR = "/accounts/second-factor/"


def totp(key_hex: str) -> str:
    """The current TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) of a device's hex key."""
    counter = int(time.time()) // 30
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str
    url: str
    raw: bytes = b""


@dataclass
class Smoke:
    base_url: str
    failures: list[str] = field(default_factory=list)
    checks: int = 0

    def check(self, condition: bool, what: str) -> bool:
        self.checks += 1
        print(("  ok    " if condition else "  FAIL  ") + what)
        if not condition:
            self.failures.append(what)
        return condition


class Session:
    """Cookies kept by hand: the server marks them Secure. Speaks HTTPS to nginx (the
    certificate checked against --cafile), or plain HTTP straight to gunicorn as a TLS proxy
    would (then `X-Forwarded-Proto: https` stands in for the proxy)."""

    cafile: str | None = None

    def __init__(self, base_url: str) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.https = parsed.scheme == "https"
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (443 if self.https else 80)
        self.origin = f"https://{parsed.netloc}"
        self.cookies: dict[str, str] = {}

    def connect(self) -> http.client.HTTPConnection:
        if self.https:
            context = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=60, context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        follow: bool = True,
        extra_headers: dict[str, str] | None = None,
    ) -> Answer:
        for _ in range(5):
            connection = self.connect()
            headers = {
                "X-Forwarded-Proto": "https",
                "Host": f"{self.host}:{self.port}",
                "User-Agent": "production-smoke",
                **(extra_headers or {}),
            }
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if data is not None:
                body = urllib.parse.urlencode(data)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["Origin"] = self.origin
                headers["Referer"] = self.origin + path
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            text = raw.decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in header.lower():
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            connection.close()
            answer = Answer(response.status, response.headers, text, path, raw)
            location = response.headers.get("Location")
            if not (follow and response.status in (301, 302, 303) and location):
                return answer
            target = urllib.parse.urlsplit(location)
            path = target.path + (f"?{target.query}" if target.query else "")
            method, data = "GET", None
        return answer


def check_security_headers(smoke: Smoke, answer: Answer, *, private: bool = True) -> None:
    where = f"{answer.url} ({answer.status})"
    csp = answer.headers.get("Content-Security-Policy", "")
    script_src = next((d.strip() for d in csp.split(";") if d.strip().startswith("script-src")), "")
    if answer.url.startswith("/static/"):
        pass  # files, not documents: the policy applies to the pages that load them
    else:
        smoke.check(
            bool(script_src) and "'unsafe-inline'" not in script_src,
            f"{where}: CSP script-src without 'unsafe-inline' ({script_src!r})",
        )
        smoke.check("frame-ancestors 'none'" in csp, f"{where}: CSP frame-ancestors 'none'")
    hsts = answer.headers.get("Strict-Transport-Security", "")
    smoke.check(hsts.startswith("max-age=31536000"), f"{where}: HSTS ({hsts!r})")
    server = answer.headers.get("Server")
    smoke.check(
        server is None or not ("gunicorn" in server.lower() or re.search(r"\d", server)),
        f"{where}: no Server header naming the software or its version ({server!r})",
    )
    if private:
        cache_control = answer.headers.get("Cache-Control", "")
        smoke.check("no-store" in cache_control, f"{where}: Cache-Control no-store")


def sign_in(
    smoke: Smoke, username: str, password: str, totp_key: str | None = None
) -> Session | None:
    session = Session(smoke.base_url)
    page = session.request("GET", "/accounts/login/")
    smoke.check(page.status == 200, f"{username}: login page 200")
    check_security_headers(smoke, page)
    token = CSRF_INPUT.search(page.body)
    if not smoke.check(
        token is not None and "csrftoken" in session.cookies, f"{username}: CSRF token"
    ):
        return None
    assert token is not None
    answer = session.request(
        "POST",
        "/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
        follow=False,
    )
    signed_in = answer.status == 302 and answer.headers.get("Location") == "/"
    smoke.check(signed_in, f"{username}: signs in (302 to /, got {answer.status})")
    if not signed_in:
        return None
    # The second factor: production needs it for the roles that must have one (.ci/production.sh
    # enrols those with a known key); the work desk is reached only after it.
    first = session.request("GET", "/", follow=False)
    location = first.headers.get("Location", "")
    if first.status == 302 and location.startswith(SECOND_FACTOR):
        if not smoke.check(
            totp_key is not None and not location.startswith(SECOND_FACTOR + "enrol/"),
            f"{username}: asked for the second factor ({location}), and a device is enrolled",
        ):
            return None
        assert totp_key is not None
        page = session.request("GET", SECOND_FACTOR)
        token = CSRF_INPUT.search(page.body)
        if not smoke.check(token is not None, f"{username}: the second-factor page"):
            return None
        assert token is not None
        answer = session.request(
            "POST",
            SECOND_FACTOR,
            {"code": totp(totp_key), "next": "/", "csrfmiddlewaretoken": token.group(1)},
            follow=False,
        )
        verified = answer.status == 302 and answer.headers.get("Location") == "/"
        smoke.check(verified, f"{username}: second factor verified ({answer.status})")
        if not verified:
            return None
        first = session.request("GET", "/", follow=False)
    smoke.check(first.status == 200, f"{username}: the work desk after sign-in ({first.status})")
    return session


def check_ledger_job_download(smoke: Smoke, session: Session) -> None:
    """A ledger large enough for a job (LEDGER_JOB_THRESHOLD is lowered by the pass): the real
    worker writes it, the job page links it through the file door, nginx sends it (X-Accel-
    Redirect), and nobody else can take it."""
    index = session.request("GET", "/ledgers/")
    # The region cascade (povertyapp/regions.py): a county office is asked for the 乡镇, with
    # "全部" (the whole county) as the empty choice.
    township = re.search(r'<select name="township"[^>]*>.*?<option value="(\d+)"', index.body, re.S)
    ledger = re.search(r'name="ledger" value="([^"]+)"', index.body)
    if not smoke.check(
        township is not None and ledger is not None, "ledgers: the region cascade and a ledger"
    ):
        return
    assert ledger is not None
    # A county-wide unmasked export (no township chosen) states its reason (issue 14), logged
    # with the export.
    query = urllib.parse.urlencode(
        {"ledger": ledger.group(1), "township": "", "reason": "生产环境冒烟检查"}
    )
    started = session.request("GET", f"/ledgers/export/?{query}")
    job = re.match(r"/jobs/(\d+)/$", started.url)
    if not smoke.check(job is not None, f"ledger {ledger.group(1)}: a job ({started.url})"):
        return
    assert job is not None
    link = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        page = session.request("GET", started.url)
        found = re.search(r'href="(/files/job_result/\d+/\?t=[^"]+)"', page.body)
        if found:
            link = found.group(1).replace("&amp;", "&")
            break
        if "failed" in page.body and 'class="errors"' in page.body:
            break
        time.sleep(1)
    if not smoke.check(link is not None, f"{started.url}: the worker finished the job"):
        return
    assert link is not None
    answer = session.request("GET", link, follow=False)
    disposition = answer.headers.get("Content-Disposition", "")
    smoke.check(
        answer.status == 200 and answer.raw[:2] == b"PK",
        f"{link}: the workbook, whole ({answer.status}, {len(answer.raw)} bytes)",
    )
    smoke.check("filename*=UTF-8''" in disposition, f"{link}: Chinese file name ({disposition!r})")
    smoke.check(
        "no-store" in answer.headers.get("Cache-Control", ""), f"{link}: Cache-Control no-store"
    )
    smoke.check(
        answer.headers.get("X-Accel-Redirect") is None and answer.headers.get("Server") == "nginx",
        f"{link}: sent by nginx, the internal redirect not shown ({answer.headers.get('Server')})",
    )
    smoke.check(
        answer.headers.get("X-Content-Type-Options") == "nosniff"
        and answer.headers.get("Strict-Transport-Security", "").startswith("max-age=31536000"),
        f"{link}: nosniff and HSTS restated by nginx",
    )
    anonymous = Session(smoke.base_url).request("GET", link, follow=False)
    smoke.check(
        anonymous.status == 302 and "/accounts/login/" in anonymous.headers.get("Location", ""),
        f"{link}: anonymous → the login page ({anonymous.status})",
    )
    for path in ("/media/", "/media/jobs/", "/protected-media/", "/protected-media/jobs/"):
        answer = Session(smoke.base_url).request("GET", path, follow=False)
        smoke.check(answer.status == 404, f"{path}: 404, never served ({answer.status})")


def menu_links(html: str) -> list[str]:
    match = NAV.search(html)
    return HREF.findall(match.group(1)) if match else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8130")
    parser.add_argument("--password", default="Huangping@2020")
    parser.add_argument("--users", default=USERS)
    parser.add_argument(
        "--totp-key",
        help="hex key of the TOTP devices the pass enrolled for the roles that require one",
    )
    parser.add_argument("--cafile", help="the certificate of an https --base-url (nginx)")
    parser.add_argument(
        "--http-url", help="nginx's plain-HTTP address: it must only redirect to https"
    )
    parser.add_argument(
        "--job-download",
        action="store_true",
        help="also export a ledger as a job (needs a worker) and download it (needs nginx)",
    )
    arguments = parser.parse_args()
    Session.cafile = arguments.cafile
    smoke = Smoke(arguments.base_url)

    if arguments.http_url:
        print("== plain HTTP")
        answer = Session(arguments.http_url).request("GET", "/households/", follow=False)
        smoke.check(
            answer.status == 301 and answer.headers.get("Location", "").startswith("https://"),
            f"http /households/: 301 to https ({answer.status} {answer.headers.get('Location')})",
        )

    print("== anonymous")
    anonymous = Session(arguments.base_url)
    answer = anonymous.request("GET", "/households/", follow=False)
    smoke.check(
        answer.status == 302 and answer.headers.get("Location", "").startswith("/accounts/login/"),
        "anonymous /households/: redirected to the login page",
    )
    answer = anonymous.request("GET", "/no-such-page/")
    smoke.check(
        answer.status == 404 and 'class="card error-page"' in answer.body,
        "anonymous /no-such-page/: 404 in the site's layout",
    )
    smoke.check(
        "URLconf" not in answer.body and "Traceback" not in answer.body,
        "anonymous /no-such-page/: not Django's debug page (DEBUG is off)",
    )
    check_security_headers(smoke, answer)

    menus: dict[str, list[str]] = {}
    sessions: dict[str, Session] = {}
    for username in arguments.users.split(","):
        print(f"== {username}")
        session = sign_in(smoke, username, arguments.password, arguments.totp_key)
        if session is None:
            continue
        sessions[username] = session
        home = session.request("GET", "/")
        smoke.check(home.status == 200, f"{username}: work desk 200")
        check_security_headers(smoke, home)
        menus[username] = menu_links(home.body)
        smoke.check(bool(menus[username]), f"{username}: menu {menus[username]}")
        for link in menus[username]:
            page = session.request("GET", link)
            smoke.check(page.status == 200, f"{username}: {link} → {page.url} {page.status}")
            check_security_headers(smoke, page)

    every_link = sorted({link for links in menus.values() for link in links})
    for username, session in sessions.items():
        for link in every_link:
            if link in menus[username] or link == "/admin/":
                continue  # the admin site answers its own login page, not 403
            page = session.request("GET", link, follow=False)
            smoke.check(
                page.status == 403 and 'class="card error-page"' in page.body,
                f"{username}: {link} not in the menu → 403 in the site's layout ({page.status})",
            )

    print("== static files (hashed names, served by whitenoise)")
    session = sessions.get("cadre") or next(iter(sessions.values()), None)
    if smoke.check(session is not None, "a signed-in session for the remaining checks"):
        assert session is not None
        home = session.request("GET", "/")
        assets = sorted(set(ASSET.findall(home.body)))
        smoke.check(len(assets) >= 3, f"the work desk links css and js: {assets}")
        for asset in assets:
            smoke.check(bool(HASHED.search(asset)), f"{asset}: hashed name")
            answer = session.request("GET", asset)
            smoke.check(answer.status == 200, f"{asset}: 200")
            cache_control = answer.headers.get("Cache-Control", "")
            smoke.check("immutable" in cache_control, f"{asset}: long cache ({cache_control!r})")
            check_security_headers(smoke, answer, private=False)

        print("== a household's page (personal data)")
        listing = session.request("GET", "/households/")
        household = re.search(r'href="(/households/\d+/)"', listing.body)
        if smoke.check(household is not None, "the registry lists a household"):
            assert household is not None
            for path in (household.group(1), household.group(1) + "edit/"):
                answer = session.request("GET", path)
                smoke.check(answer.status == 200, f"{path}: 200")
                check_security_headers(smoke, answer)

        print("== the list's search: its form's htmx POST answered with the page")
        head = re.search(r'<td class="card-head">([^<—]+)</td>', listing.body)
        token = CSRF_INPUT.search(listing.body)
        if smoke.check(head is not None and token is not None, "the list shows a head's name"):
            assert head is not None and token is not None
            name = head.group(1).strip()
            answer = session.request(
                "POST",
                "/households/",
                {"search_terms": "q", "q": name, "csrfmiddlewaretoken": token.group(1)},
                follow=False,
                extra_headers={"HX-Request": "true"},
            )
            pushed = answer.headers.get("HX-Push-Url", "")
            smoke.check(
                answer.status == 200
                and pushed.startswith("/households/?qt=")
                and "<main" in answer.body,
                f"the search answers 200, the page and HX-Push-Url ({answer.status}, {pushed!r})",
            )
            smoke.check(
                urllib.parse.quote(name) not in pushed and name not in pushed,
                "the name is not in the pushed address",
            )
            check_security_headers(smoke, answer)
            again = session.request("GET", pushed, follow=False) if pushed else None
            smoke.check(
                again is not None and again.status == 200 and name in again.body,
                "the pushed address shows the search again (a reload)",
            )

        print("== API")
        for path in ("/api/v1/households/", "/api/v1/regions/", "/api/v1/docs/"):
            answer = session.request("GET", path)
            smoke.check(answer.status == 200, f"{path}: 200")
            check_security_headers(smoke, answer)
        answer = session.request("GET", "/api/v1/docs/?script=")
        smoke.check(
            answer.status == 200 and "SwaggerUIBundle" in answer.body,
            "/api/v1/docs/?script=: the Swagger UI's init script, from a file-like URL",
        )

    if arguments.job_download:
        print("== a ledger as a job: the worker writes it, nginx sends it through the file door")
        county = sessions.get("county")
        if smoke.check(county is not None, "a signed-in county session"):
            assert county is not None
            check_ledger_job_download(smoke, county)

    print()
    passed = smoke.checks - len(smoke.failures)
    print(f"production smoke: {passed} checks passed, {len(smoke.failures)} checks failed")
    for failure in smoke.failures:
        print(f"  FAILED: {failure}")
    return 1 if smoke.failures else 0


if __name__ == "__main__":
    sys.exit(main())
