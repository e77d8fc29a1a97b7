"""`<form {% search_form url %} …>`: the opening of a page's search form (search_terms.py).

The form posts its free-text fields (never in a URL). With scripts, htmx posts it and the page
comes back in the same answer, its `<main>` swapped in and the token's address pushed into
the browser's history (`SearchTermsMiddleware`: HX-Push-Url), so a search is one round trip
on a cadre's phone instead of a POST, a redirect and a GET; a reload or the back button asks
for that address as before. Without scripts the plain POST is answered by the redirect.
`static/js/behaviours.js` hands any other answer (a sign-in step, an error, no signal) to the
plain form, which shows it as a page. `tests/povertyapp/test_search_forms.py` holds every search
form of every page to this.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def search_form(action: str) -> SafeString:
    # hx-disinherit: the form's own controls (the 村民小组 select's hx-get) keep their targets.
    return format_html(
        'method="post" action="{0}" hx-post="{0}" hx-target="main" hx-select="main" '
        'hx-swap="outerHTML" hx-disinherit="*" hx-sync="this:replace" data-search-form',
        action,
    )
