/* ID numbers (GB 11643) as they are typed: checksum, birth date, sex and age.
 * A convenience only: the server checks everything again (households/identity.py).
 * No dependencies; works on any input with data-id-number inside a [data-member-row]. */
(function () {
  "use strict";
  // Django's JavaScript catalog (/jsi18n/, loaded before this file) translates the messages;
  // without it they stay in the source language.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, other, count) { return count === 1 ? one : other; };
  var interpolate = window.interpolate || function (format, values, named) {
    return format.replace(/%\(\w+\)s/g, function (match) { return values[match.slice(2, -2)]; });
  };
  // Stored values of the member form's fields (choice values, never shown as such).
  var MALE = "男";
  var FEMALE = "女";
  var RESIDENT_ID_CARD = "居民身份证";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function checkDigit(body17) {
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += parseInt(body17.charAt(i), 10) * WEIGHTS[i];
    return CHECK.charAt(sum % 11);
  }

  function normalise(raw, upgrade) {
    var value = (raw || "").replace(/\s+/g, "").toUpperCase();
    if (upgrade !== false && /^\d{15}$/.test(value)) {
      var body = value.slice(0, 6) + "19" + value.slice(6);
      value = body + checkDigit(body);
    }
    return value;
  }

  function ageText(age) {
    return interpolate(ngettext("%(age)s岁", "%(age)s岁", age), { age: age }, true);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* Returns {ok, message, birth, sex, age}. */
  function inspect(raw, today, upgrade) {
    var value = normalise(raw, upgrade);
    if (!value) return { ok: null, message: "" };
    if (value.length !== 18) {
      return {
        ok: false,
        message: interpolate(gettext("身份证号码应为18位，当前为%(length)s位。"), { length: value.length }, true)
      };
    }
    if (!/^\d{17}[\dX]$/.test(value)) {
      return { ok: false, message: gettext("身份证号码只能由数字组成，最后一位可以是X。") };
    }
    var y = +value.slice(6, 10), m = +value.slice(10, 12), d = +value.slice(12, 14);
    var date = new Date(y, m - 1, d);
    if (date.getFullYear() !== y || date.getMonth() !== m - 1 || date.getDate() !== d ||
        date > today || y < 1890) {
      return { ok: false, message: gettext("身份证号码中的出生日期（第7–14位）不是有效日期。") };
    }
    if (checkDigit(value.slice(0, 17)) !== value.charAt(17)) {
      return { ok: false, message: gettext("身份证号码校验位错误，请核对每一位数字。") };
    }
    var age = today.getFullYear() - y;
    if (today.getMonth() + 1 < m || (today.getMonth() + 1 === m && today.getDate() < d)) age -= 1;
    return {
      ok: true, value: value, message: "",
      birth: y + "-" + pad(m) + "-" + pad(d),
      sex: parseInt(value.charAt(16), 10) % 2 === 1 ? MALE : FEMALE,
      age: age
    };
  }

  /* Write only what changes. Rewriting identical text replaces the text node; when the user
   * leaves the field by clicking 保存, the 'change' handler runs between mousedown and mouseup,
   * and Chrome's scroll anchoring re-anchored the page on the replaced node and scrolled it, so
   * the mouseup landed beside the button and the form was never submitted. */
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }
  function setClass(node, name) {
    if (node.className !== name) node.className = name;
  }
  function setValue(node, value) {
    if (node.value !== value) node.value = value;
  }

  function messageBox(input) {
    var box = input.parentNode.querySelector(".js-id-message");
    if (!box) {
      box = document.createElement("p");
      box.className = "js-id-message";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      input.parentNode.appendChild(box);
    }
    return box;
  }

  /* typing: true while the user is still typing (a 15-digit prefix of an 18-digit number must
   * not be taken for an old 15-digit number); false on change and when leaving the field. */
  function update(input, typing) {
    var row = input.closest("[data-member-row]") || document;
    var typeSelect = row.querySelector("select[name$='-id_type']");
    if (typeSelect && typeSelect.value && typeSelect.value !== RESIDENT_ID_CARD) {
      setText(messageBox(input), "");
      input.removeAttribute("aria-invalid");
      return;
    }
    var result = inspect(input.value, new Date(), !typing);
    var box = messageBox(input);
    var complete = normalise(input.value, false).length >= 18;
    if (typing && !complete) {
      setText(box, "");
      setClass(box, "js-id-message");
      input.removeAttribute("aria-invalid");
      return;
    }
    if (result.ok && !typing && result.value !== input.value) input.value = result.value;
    if (result.ok === false) {
      setText(box, result.message);
      setClass(box, "js-id-message bad");
      input.setAttribute("aria-invalid", "true");
    } else if (result.ok) {
      var shownSex = result.sex === MALE ? gettext("男") : gettext("女");
      setText(box, "✓ " + result.birth + " · " + shownSex + " · " + ageText(result.age));
      setClass(box, "js-id-message ok");
      input.removeAttribute("aria-invalid");
      var birth = row.querySelector("[data-birth-date]");
      var sex = row.querySelector("[data-sex]");
      var age = row.querySelector("[data-age]");
      if (birth) setValue(birth, result.birth);
      if (sex) setValue(sex, result.sex);
      if (age) setText(age, ageText(result.age));
    } else {
      setText(box, "");
      setClass(box, "js-id-message");
      input.removeAttribute("aria-invalid");
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-id-number]")) update(event.target, true);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-id-number]")) update(event.target, false);
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches && event.target.matches("[data-id-number]")) update(event.target, false);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("[data-id-number]");
    // A field the server refused keeps the server's message alone (one wording per error): the
    // check runs again once the cadre edits it.
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].value && !inputs[i].closest(".has-error")) update(inputs[i], false);
    }
  });
  window.idNumber = { inspect: inspect, checkDigit: checkDigit, normalise: normalise };
})();
