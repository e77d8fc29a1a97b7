/* Small page behaviours declared by data attributes, so that no template needs an inline script
   or an on* handler (the Content-Security-Policy allows scripts from our own files only):

     <select data-autosubmit>        submits its form when the choice changes
     <form data-confirm="question">  asks before submitting
     <button data-print>             prints the page
     <a data-history-back href="…">  goes back in the browser's history (the href is the fallback)
*/
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
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
