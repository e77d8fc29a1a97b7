/* Field photos (issue 17, povertyapp/photos.py): resized on the phone before upload.
 *
 * For every <input type="file" data-photo-input> of a form: on submit, each chosen image is
 * drawn on a canvas with its longest side at most data-max-side (1600) px and re-encoded as
 * JPEG (quality 0.8), replacing the original in the input; the time each photo was taken (the
 * file's time from the camera) and, only when the user ticked 记录位置 and allowed the
 * browser's prompt, the location go to the form's hidden `photo_meta` (JSON, one object per
 * file). Progressive enhancement: without this script the originals upload and the server
 * resizes them the same way. Texts come from data-msg-* attributes (translated by the page).
 * `window.PhotoResize.resize(file)` is also used by the offline visit form (offline-photos.js).
 */
(function () {
  "use strict";

  var MAX_SIDE = 1600;
  var QUALITY = 0.8;

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () {
        return decodeWithImage(file);
      });
    }
    return decodeWithImage(file);
  }

  function decodeWithImage(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.onload = function () { URL.revokeObjectURL(url); resolve(image); };
      image.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      image.src = url;
    });
  }

  function resize(file, maxSide) {
    maxSide = maxSide || MAX_SIDE;
    return decode(file).then(function (image) {
      var width = image.width, height = image.height;
      var scale = Math.min(1, maxSide / Math.max(width, height));
      width = Math.max(1, Math.round(width * scale));
      height = Math.max(1, Math.round(height * scale));
      var canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      var context = canvas.getContext("2d");
      context.fillStyle = "#fff"; // a transparent PNG becomes a JPEG on white
      context.fillRect(0, 0, width, height);
      context.drawImage(image, 0, 0, width, height);
      if (image.close) { image.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (!blob) { reject(new Error("encode")); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve({
            file: new File([blob], name, { type: "image/jpeg", lastModified: file.lastModified }),
            width: width,
            height: height,
            taken_at: new Date(file.lastModified || Date.now()).toISOString()
          });
        }, "image/jpeg", QUALITY);
      });
    });
  }

  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) { resolve(null); return; }
      navigator.geolocation.getCurrentPosition(
        function (position) {
          resolve({
            latitude: position.coords.latitude.toFixed(6),
            longitude: position.coords.longitude.toFixed(6)
          });
        },
        function () { resolve(null); },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 120000 }
      );
    });
  }

  function setUp(input) {
    var form = input.form;
    if (!form || form.dataset.photoReady) { return; }
    form.dataset.photoReady = "1";
    var box = form.querySelector("[data-photo-location]");
    var tick = box && box.querySelector("input[type=checkbox]");
    var status = form.querySelector("[data-photo-status]");
    var meta = form.querySelector("input[name=photo_meta]");
    var texts = (form.querySelector("[data-photo-texts]") || input).dataset;
    var maxSide = parseInt(input.dataset.maxSide || MAX_SIDE, 10);
    var position = null;
    var done = false;
    if (box) { box.hidden = false; }
    function say(text) { if (status) { status.textContent = text || ""; } }
    if (tick) {
      tick.addEventListener("change", function () {
        position = null;
        if (!tick.checked) { return; }
        // The browser's own permission prompt: asked only now, because the user ticked.
        say(texts.msgLocating);
        locate().then(function (found) {
          position = found;
          if (!found) { tick.checked = false; }
          say(found ? texts.msgLocated : texts.msgNoLocation);
        });
      });
    }
    form.addEventListener("submit", function (event) {
      if (done || !input.files || !input.files.length || !window.DataTransfer) { return; }
      event.preventDefault();
      var originals = Array.prototype.slice.call(input.files);
      say(texts.msgResizing);
      var where = tick && tick.checked ? (position ? Promise.resolve(position) : locate()) : Promise.resolve(null);
      where.then(function (found) {
        return Promise.all(originals.map(function (file) {
          return resize(file, maxSide).catch(function () {
            // Not decodable here (e.g. HEIC): the original goes up and the server says why.
            return { file: file, taken_at: new Date(file.lastModified || Date.now()).toISOString() };
          });
        })).then(function (results) {
          var transfer = new DataTransfer();
          var entries = results.map(function (result) {
            transfer.items.add(result.file);
            var entry = { taken_at: result.taken_at };
            if (found) { entry.latitude = found.latitude; entry.longitude = found.longitude; }
            return entry;
          });
          input.files = transfer.files;
          if (meta) { meta.value = JSON.stringify(entries); }
          done = true;
          say("");
          if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
        });
      });
    });
  }

  window.PhotoResize = { resize: resize, locate: locate };
  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-photo-input]"), setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
