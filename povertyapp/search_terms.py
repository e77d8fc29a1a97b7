"""Search terms that never travel in a URL (安全审计: no ID numbers in URLs).

A URL's query string is written into the web server's access log, the browser's history and the
Referer header of the next request; an ID number, bank account or mobile number typed into a
search box would be kept in all three. So a search form posts, naming its free-text fields in a
hidden input (`<input type="hidden" name="search_terms" value="q">`). `SearchTermsMiddleware`
keeps those fields in the user's session under a random one-way token and redirects to the same
page with `?qt=<token>` plus the form's other, harmless fields (village, status, ordering, page
size).
On a request with a token the middleware puts the terms back into `request.GET` before the view
runs, so views read their parameters as always; paging, sorting, filters, a reload and the back
button work for the session's life. A token says nothing about its terms and is useless in
another session or on another page (tokens are kept per session and per path).

The class is closed for every page: a GET whose query string holds an ID-looking value (an
18/15-character ID, 12–19 digits, a mobile number) is not run. A page answers with a redirect to
the same address, the value moved into a token; the API answers 400 and names the POST
endpoint to use. Region codes (12 or 15 digits) in the parameters that carry them identify no
person and pass. Links a view builds from `request.GET` use `link_query(request)` (the token,
not the terms); the admin's change lists are rewritten the same way (process_template_response).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from povertyapp.privacy import has_sensitive_number

TOKEN_PARAM = "qt"
TERMS_FIELD = "search_terms"  # the hidden input naming a posted form's free-text fields
SESSION_KEY = "search_terms"
# Tokens kept per session; the oldest go first (a session is at most a working day).
MAX_KEPT = 50
# Parameters that carry a statistical region code (12 digits a village, 15 a group): such a
# value looks like a bank account but identifies no person.
REGION_PARAMS = frozenset({"region", "village", "group", "parent__code", "code"})
_REGION_CODE = re.compile(r"\d{12}|\d{15}")
API_PREFIX = "/api/"
NOT_CARRIED = frozenset({"csrfmiddlewaretoken", TERMS_FIELD, TOKEN_PARAM, "page", "p"})


def sensitive_params(params: QueryDict) -> list[str]:
    """The names of the parameters that hold an ID number, bank account or mobile number."""
    names = []
    for name in params:
        for value in params.getlist(name):
            if name in REGION_PARAMS and _REGION_CODE.fullmatch(value):
                continue
            if has_sensitive_number(value) or has_sensitive_number(name):
                names.append(name)
                break
    return names


def remember(request: HttpRequest, terms: dict[str, list[str]]) -> str:
    """Keep the terms in the session for this page; return the token that recalls them."""
    token = secrets.token_urlsafe(16)
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept[token] = {"path": request.path, "terms": terms}
    for old in list(kept)[: max(0, len(kept) - MAX_KEPT)]:
        del kept[old]
    request.session[SESSION_KEY] = kept
    return token


def recall(request: HttpRequest, token: str) -> dict[str, list[str]] | None:
    """The terms of the token, or None when it names none kept for this page (another
    session's token, an expired session, a token of another page)."""
    session = getattr(request, "session", None)
    kept = session.get(SESSION_KEY, {}).get(token) if session is not None and token else None
    if not kept or kept.get("path") != request.path:
        return None
    return {name: list(values) for name, values in kept["terms"].items()}


def terms_location(
    request: HttpRequest, terms: dict[str, list[str]], params: QueryDict | None = None
) -> str:
    """This page's address with `params` (default: its query string), except the terms, which
    go into a token (none when every term is empty, or for an anonymous user). Paging
    restarts."""
    query = (request.GET if params is None else params).copy()
    for name in [*terms, *NOT_CARRIED]:
        query.pop(name, None)
    terms = {name: values for name, values in terms.items() if any(v.strip() for v in values)}
    if terms and request.user.is_authenticated:
        query[TOKEN_PARAM] = remember(request, terms)
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


def redirect_with_terms(
    request: HttpRequest, terms: dict[str, list[str]], params: QueryDict | None = None
) -> HttpResponseRedirect:
    """Redirect to `terms_location`."""
    return HttpResponseRedirect(terms_location(request, terms, params))


def _run_as_get(request: HttpRequest, location: str) -> None:
    """Turn a search form's POST into the GET of `location` that its redirect would lead to:
    the query without the token, the token's terms put back (as `SearchTermsMiddleware` does
    for a GET), no body. The view cannot tell the two apart."""
    query = QueryDict(urlsplit(location).query, mutable=True)
    token = query.pop(TOKEN_PARAM, [None])[-1]
    terms = recall(request, token) if token else None
    for name, values in (terms or {}).items():
        query.setlist(name, values)
    query._mutable = False
    request.GET = query  # type: ignore[assignment]  # a QueryDict all the same
    request.POST = QueryDict()
    request.method = "GET"
    if token is not None:
        request.search_token = (token, list(terms or {}))  # type: ignore[attr-defined]  # set here
    request.search_location = location  # type: ignore[attr-defined]  # read in __call__


def link_query(request: HttpRequest, *, without: Iterable[str] = ("page",)) -> str:
    """The request's query string for the page's own links (paging, sorting): the search
    token stands for its terms."""
    query = request.GET.copy()
    for name in without:
        query.pop(name, None)
    token = getattr(request, "search_token", None)
    if token is not None:
        for name in token[1]:
            query.pop(name, None)
        query[TOKEN_PARAM] = token[0]
    return query.urlencode()


def search_endpoint(path: str) -> str | None:
    """The POST search endpoint beside an API list (`/api/v1/households/search/`), if any."""
    candidate = f"{path.rstrip('/')}/search/"
    try:
        resolve(candidate)
    except Resolver404:
        return None
    return candidate


def refuse_api_query(request: HttpRequest, names: Iterable[str]) -> JsonResponse:
    endpoint = search_endpoint(request.path)
    where = (
        _("请改用 POST %(endpoint)s，把查询条件放在请求正文中。") % {"endpoint": endpoint}
        if endpoint
        else _("请用 POST 请求把查询条件放在请求正文中。")
    )
    detail = _(
        "网址的查询参数（%(names)s）中不能含有身份证号码、银行账号或手机号码："
        "网址会被记入服务器日志。"
    ) % {"names": "、".join(sorted(names))}
    return JsonResponse({"detail": f"{detail}{where}"}, status=400)


class SearchTermsMiddleware:
    """No GET runs with an ID number, bank account or mobile number in its query string; posted
    search terms live in the session, behind a token (the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            names = sensitive_params(request.GET)
            if names:
                if request.path.startswith(API_PREFIX):
                    return refuse_api_query(request, names)
                if request.user.is_authenticated:
                    messages.info(
                        request,
                        _(
                            "为保护个人信息，身份证号码等查询内容不会显示在网址中；请使用页面上的搜索框。"
                        ),
                    )
                return redirect_with_terms(
                    request, {name: request.GET.getlist(name) for name in names}
                )
        token = request.GET.get(TOKEN_PARAM)
        if token is not None and not request.path.startswith(API_PREFIX):
            terms = recall(request, token)
            params = request.GET.copy()
            del params[TOKEN_PARAM]
            if terms is None and request.method in ("GET", "HEAD"):
                if request.user.is_authenticated:
                    messages.info(
                        request, _("搜索条件已过期（登录会话已结束），请重新输入搜索内容。")
                    )
                return redirect_with_terms(request, {})
            for name, values in (terms or {}).items():
                params.setlist(name, values)
            params._mutable = False  # as Django's own request.GET
            request.GET = params  # type: ignore[assignment]  # the view reads the terms as always
            request.search_token = (token, list(terms or {}))  # type: ignore[attr-defined]  # set here
        response = self.get_response(request)
        location = getattr(request, "search_location", None)
        if location is not None:  # a search form's POST from htmx, shown at once
            if response.status_code != 200:
                # A refusal or an error is shown as the redirect would have shown it: the
                # browser goes to the address and the page answers for itself.
                return HttpResponse(headers={"HX-Redirect": location})
            response["HX-Push-Url"] = location
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        # Here, not in __call__: after CsrfViewMiddleware.process_view checked the form's token.
        # A page's form only (CsrfViewMiddleware has read request.POST already).
        if (
            request.method == "POST"
            and not request.path.startswith(API_PREFIX)
            and TERMS_FIELD in request.POST
        ):
            names = [name for name in request.POST.get(TERMS_FIELD, "").split(",") if name]
            terms = {name: request.POST.getlist(name) for name in names}
            location = terms_location(request, terms, request.POST)
            if request.headers.get("HX-Request") == "true":
                # The form's htmx POST: the page is shown in this answer, its address (the
                # token's) pushed into the browser's history (HX-Push-Url), one round trip.
                _run_as_get(request, location)
                return None
            return HttpResponseRedirect(location)  # Post/Redirect/Get without scripts
        return None

    def process_template_response(self, request: HttpRequest, response: Any) -> Any:
        """The admin's change list builds its links and hidden inputs from the query: the token
        goes there instead of the terms."""
        token = getattr(request, "search_token", None)
        change_list = (response.context_data or {}).get("cl")
        if token is not None and change_list is not None and hasattr(change_list, "params"):
            for name in token[1]:
                change_list.params.pop(name, None)
                change_list.filter_params.pop(name, None)
            change_list.params[TOKEN_PARAM] = token[0]
            change_list.filter_params[TOKEN_PARAM] = [token[0]]
        return response
