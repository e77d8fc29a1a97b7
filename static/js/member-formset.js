/* The member formset: add a member row from the <template>, cancel a new row, keep the
 * management form's TOTAL_FORMS and the rows' numbering right. Existing members are never
 * removed here: leaving a household is its own action with a reason. */
(function () {
  "use strict";
  function renumber(container, prefix) {
    var rows = container.querySelectorAll("[data-member-row]");
    var pattern = new RegExp(prefix + "-(\\d+|__prefix__)-", "g");
    for (var i = 0; i < rows.length; i++) {
      var nodes = rows[i].querySelectorAll("[name],[id],[for]");
      for (var j = 0; j < nodes.length; j++) {
        ["name", "id", "for"].forEach(function (attribute) {
          var value = nodes[j].getAttribute(attribute);
          if (value) nodes[j].setAttribute(attribute, value.replace(pattern, prefix + "-" + i + "-"));
        });
      }
    }
    document.getElementById("id_" + prefix + "-TOTAL_FORMS").value = rows.length;
  }

  document.addEventListener("click", function (event) {
    var form = event.target.closest && event.target.closest("form[data-formset]");
    if (!form) return;
    var prefix = form.getAttribute("data-formset");
    var container = form.querySelector("[data-rows]");
    if (event.target.matches("[data-add-row]")) {
      var template = form.querySelector("template[data-empty-row]");
      var total = container.querySelectorAll("[data-member-row]").length;
      var html = template.innerHTML.replace(/__prefix__/g, String(total));
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      container.appendChild(row);
      renumber(container, prefix);
      var first = row.querySelector("input[type=text]");
      if (first) first.focus();
    } else if (event.target.matches("[data-remove-row]")) {
      event.target.closest("[data-member-row]").remove();
      renumber(container, prefix);
    }
  });
})();
