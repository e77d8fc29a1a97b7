/* The phone-first layout's behaviours (static/css/app.css, "Phone first"):
 *
 *   .menu-toggle[aria-controls]   the 菜单 button of a narrow screen (under 900 px) opens and
 *                                 closes the menu, the language switch and the account
 *   <details data-open-wide>      a drawer (the list's filters) closed on a phone, opened on a
 *                                 screen of 900 px or more (also when htmx swaps a page in)
 *
 * Loaded in <head> without defer so that <html class="js"> is set before the first paint: the
 * menu folds only when this script runs, and without it (a browser with scripts off) the menu
 * stays open, never out of reach. Handlers are delegated to the document, so they need no
 * element to exist yet; no inline script or style (the Content-Security-Policy). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function toggleFor(menu) {
    return document.querySelector("[aria-controls='" + menu.id + "']");
  }

  function setOpen(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest(".menu-toggle") : null;
    if (button) {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
    }
  });
  function openWide(root) {
    if (!window.matchMedia("(min-width: 900px)").matches) return;
    var drawers = root.querySelectorAll("details[data-open-wide]");
    for (var i = 0; i < drawers.length; i++) drawers[i].open = true;
  }
  document.addEventListener("DOMContentLoaded", function () { openWide(document); });
  // A search's page swapped in by htmx (povertyapp/templatetags/search_forms.py) brings its own.
  document.addEventListener("htmx:load", function (event) {
    if (event.target instanceof Element) openWide(event.target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector(".site-menu.open");
    var button = menu && toggleFor(menu);
    if (button) {
      setOpen(button, false);
      button.focus();
    }
  });
})();
