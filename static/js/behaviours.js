/* Small page behaviours declared by data attributes, so that no template needs an inline script
   or an on* handler (the Content-Security-Policy allows scripts from our own files only):

     <select data-autosubmit>        submits its form when the choice changes
     <form data-confirm="question">  asks before submitting
     <button data-print>             prints the page
     <a data-history-back href="…">  goes back in the browser's history (the href is the fallback)
     <select data-follows="id_x" hx-trigger="follow">  gets a `follow` event (htmx refills it)
                                     when the element with id id_x changes, also after that
                                     element was swapped for a new one (an htmx trigger filter
                                     such as change[target.id=='id_x'] would need eval, which
                                     the policy refuses)
     <form data-search-form hx-post …>  a search form ({% search_form %}): htmx swaps in the
                                     page its POST answers with; any other answer (a sign-in
                                     step, a refusal, an error) and a request that could not be
                                     sent (no signal) go to the plain form, whose POST the
                                     browser shows as a page, as without scripts
*/
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
    if (target instanceof Element && target.id) {
      document.querySelectorAll("[data-follows]").forEach(function (follower) {
        if (follower.getAttribute("data-follows") === target.id) {
          follower.dispatchEvent(new Event("follow"));
        }
      });
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm")) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    }
  });
  function searchForm(event) {
    var form = event.detail && event.detail.elt;
    return form instanceof HTMLFormElement && form.hasAttribute("data-search-form") ? form : null;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = searchForm(event);
    // The search's own page carries its address (HX-Push-Url, povertyapp/search_terms.py).
    if (!form || event.detail.xhr.getResponseHeader("HX-Push-Url")) { return; }
    event.detail.shouldSwap = false;
    form.submit();
  });
  document.addEventListener("htmx:sendError", function (event) {
    var form = searchForm(event);
    if (form) { form.submit(); }
  });
  document.addEventListener("click", function (event) {
    var element = event.target instanceof Element ? event.target.closest("[data-print], [data-history-back]") : null;
    if (!element) { return; }
    if (element.hasAttribute("data-print")) {
      event.preventDefault();
      window.print();
    } else if (window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
