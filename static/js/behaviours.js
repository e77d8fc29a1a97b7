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
