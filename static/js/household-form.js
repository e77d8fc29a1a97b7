/* The household form on a phone (templates/households/household_form.html):
 *
 *   - after a failed save the error summary on top takes the focus, so a screen reader reads it
 *     and the page starts at it; each of its links opens the member the field is in, scrolls
 *     the field into view and focuses it;
 *   - one member open at a time: opening a member (or adding one) folds the others, and a
 *     member's summary follows the name as it is typed.
 *
 * Nothing here validates: the server's message is the one wording of an error. */
(function () {
  "use strict";

  function members() {
    return document.querySelectorAll("details.member[data-member-row]");
  }

  function foldOthers(open) {
    var all = members();
    for (var i = 0; i < all.length; i++) {
      if (all[i] !== open && all[i].open) all[i].open = false;
    }
  }

  function reveal(target) {
    for (var node = target.parentElement; node; node = node.parentElement) {
      if (node instanceof HTMLDetailsElement && !node.open) node.open = true;
    }
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.scrollIntoView({ block: "start" });
      summary.focus({ preventScroll: true });
    }
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    var link = event.target.closest("a[data-error-link]");
    if (link) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) {
        event.preventDefault();
        reveal(target);
      }
      return;
    }
    if (event.target.matches("[data-add-row]")) {
      // member-formset.js (loaded before this file) has appended the new, open member.
      var all = members();
      if (all.length) foldOthers(all[all.length - 1]);
    }
  });

  // "toggle" does not bubble: listened to on the way down.
  document.addEventListener(
    "toggle",
    function (event) {
      var details = event.target;
      if (details instanceof HTMLDetailsElement && details.matches("details.member") && details.open) {
        foldOthers(details);
      }
    },
    true
  );

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !/-name$/.test(input.name)) return;
    var row = input.closest("details.member");
    var name = row && row.querySelector("[data-member-name]");
    if (name) name.textContent = input.value;
  });
})();
